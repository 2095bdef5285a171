#include <string>

#include "config/config_loader.h"
#include "config/go_env.h"

namespace gomodprobe::config {

Config defaultConfig(const EnvLookup& env) {
  return configFromGoEnv(goEnvFromLookup(env), {}, "<embedded default>");
}

}  // namespace gomodprobe::config
