#include "goproxy/retract.h"

#include <gtest/gtest.h>

namespace gomodprobe::goproxy {
namespace {

TEST(RetractTest, ParsesSingleIntervalAndBlockForms) {
  const auto r = parseRetractions(R"(module example.com/m

go 1.16

retract v1.0.0 // broken build
retract [v1.1.0, v1.2.9]
retract (
	v1.5.0 // oops
	[v2.0.0-pre, v2.0.0-pre.9]
	"v1.7.0"
)
retracted v9.9.9
require example.com/other v1.0.0
)");
  ASSERT_EQ(r.size(), 5U);
  EXPECT_TRUE(isRetracted("v1.0.0", r));
  EXPECT_TRUE(isRetracted("v1.2.0", r));
  EXPECT_TRUE(isRetracted("v1.2.9", r));
  EXPECT_FALSE(isRetracted("v1.3.0", r));
  EXPECT_TRUE(isRetracted("v1.5.0", r));
  EXPECT_TRUE(isRetracted("v1.7.0", r));
  EXPECT_TRUE(isRetracted("v2.0.0-pre.3", r));
  EXPECT_FALSE(isRetracted("v2.0.0", r));
  EXPECT_FALSE(isRetracted("v9.9.9", r)) << "'retracted' is not the directive";
}

TEST(RetractTest, NoDirectiveNoRetraction) {
  EXPECT_TRUE(parseRetractions("module m\n\nrequire x v1.0.0\n").empty());
  EXPECT_FALSE(isRetracted("v1.0.0", {}));
}

}  // namespace
}  // namespace gomodprobe::goproxy
