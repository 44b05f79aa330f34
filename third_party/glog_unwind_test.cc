// Copyright 2026 The daemonkit Authors.
//
// glog's stack trace (printed on LOG(FATAL) and CHECK failures) still walks
// the stack now that third_party/glog_unwind.c, not libunwind, answers it,
// and the binary no longer loads libunwind (nor liblzma through it).

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/debugging/symbolize.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

// glog's own stack walker (glog/src/stacktrace.h, exported by libglog.a):
// what its fatal-error handler prints.
namespace google {
int GetStackTrace(void** result, int max_depth, int skip_count);
}  // namespace google

namespace {

std::vector<std::string> g_names;

__attribute__((noinline)) void WalkInnermost() {
  void* stack[32];
  const int depth = google::GetStackTrace(stack, 32, 0);
  for (int i = 0; i < depth; ++i) {
    char name[256];
    g_names.push_back(absl::Symbolize(stack[i], name, sizeof(name)) ? name
                                                                    : "?");
  }
  // Not a tail call: this frame must stay on the stack.
  asm volatile("" ::: "memory");
}

__attribute__((noinline)) void WalkOutermost() {
  WalkInnermost();
  asm volatile("" ::: "memory");
}

TEST(GlogStackTraceTest, NamesTheCallersInOrder) {
  g_names.clear();
  WalkOutermost();
  ASSERT_GE(g_names.size(), 3u);
  EXPECT_NE(g_names[0].find("WalkInnermost"), std::string::npos) << g_names[0];
  EXPECT_NE(g_names[1].find("WalkOutermost"), std::string::npos) << g_names[1];
  EXPECT_NE(g_names[2].find("NamesTheCallersInOrder"), std::string::npos)
      << g_names[2];
}

#if defined(__x86_64__)
TEST(GlogStackTraceTest, DoesNotLoadLibunwind) {
  std::ifstream maps("/proc/self/maps");
  std::stringstream content;
  content << maps.rdbuf();
  EXPECT_EQ(content.str().find("libunwind"), std::string::npos);
  EXPECT_EQ(content.str().find("liblzma"), std::string::npos);
}
#endif

}  // namespace
