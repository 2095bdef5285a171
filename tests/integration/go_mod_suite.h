#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "integration/go_fixture.h"
#include "net/handles.h"

namespace gomodprobe::testing {

// A test suite sharing one started GoModFixture (and the curl/c-ares libraries) across its tests.
class GoModSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    libraries_ = std::make_unique<net::NetLibraries>();
    go_ = std::make_unique<GoModFixture>();
    go_->start();
  }
  static void TearDownTestSuite() {
    go_.reset();
    libraries_.reset();
  }

  static inline std::unique_ptr<net::NetLibraries> libraries_;
  static inline std::unique_ptr<GoModFixture> go_;
};

}  // namespace gomodprobe::testing
