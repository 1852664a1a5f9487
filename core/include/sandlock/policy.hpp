// Policy: everything a sandbox enforces. The type is the plugin SDK's (the schema plugins read),
// so core and plugins agree on it without the SDK depending on core.
#pragma once

#include <sandlock/sdk/policy.hpp>
