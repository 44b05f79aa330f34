// Copyright 2026 The daemonkit Authors.
//
// //tools:inspect as a user runs it: JSON about a known process, and --check
// on a real daemon and on a process that is not one.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Inspect() { return test_support::RunfilePath("tools/inspect"); }

TEST(InspectTest, JsonDescribesTheGivenProcess) {
  RunResult result = RunProgram(
      {Inspect(), absl::StrCat("--pid=", getpid()), "--format=json"});
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  const std::string& json = result.stdout_text;
  EXPECT_THAT(json, HasSubstr(absl::StrCat(
                        "{\"pid\":", getpid(), ",\"ppid\":", getppid(),
                        ",\"pgid\":", getpgrp(), ",\"sid\":", getsid(0))));
  EXPECT_THAT(json, HasSubstr(absl::StrCat(
                        "\"uid\":", getuid(), ",\"euid\":", geteuid(),
                        ",\"gid\":", getgid(), ",\"egid\":", getegid())));
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"cwd\":\"", cwd, "\"")));
  EXPECT_THAT(json, HasSubstr("inspect_test\"}"));
}

TEST(InspectTest, CheckPassesARealDaemon) {
  const std::string dir = test_support::MakeTempDir("inspect");
  const std::string pidfile = dir + "/ticker.pid";
  const std::string ticker = test_support::RunfilePath("examples/ticker");
  RunResult start =
      RunProgram({ticker, "--daemon_pidfile=" + pidfile,
                  "--daemon_stdout=" + dir + "/log", "--interval=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = test_support::ReadPid(pidfile);

  RunResult check = RunProgram({Inspect(), "--pidfile=" + pidfile, "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.stdout_text;
  EXPECT_THAT(check.stdout_text,
              HasSubstr(absl::StrCat("pid             ", pid, "\n")));
  EXPECT_THAT(check.stdout_text, HasSubstr("PASS  stdin on /dev/null"));
  EXPECT_THAT(check.stdout_text, ::testing::Not(HasSubstr("FAIL")));

  RunResult stop = RunProgram(
      {ticker, "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  test_support::KillAndWait(pid);
}

// Attack finding 6: a supervised worker's parent is its supervisor, in its
// session by design; --check failed every one as "a child of an interactive
// shell".
TEST(InspectTest, CheckPassesASupervisedWorker) {
  const std::string dir = test_support::MakeTempDir("inspect");
  const std::string pidfile = dir + "/ticker.pid";
  const std::string child_pidfile = dir + "/worker.pid";
  const std::string ticker = test_support::RunfilePath("examples/ticker");
  RunResult start = RunProgram(
      {ticker, "--daemon_pidfile=" + pidfile,
       "--daemon_child_pidfile=" + child_pidfile, "--daemon_restart=always",
       "--daemon_stdout=" + dir + "/log", "--interval=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = test_support::ReadPid(pidfile);
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::ReadPid(child_pidfile) > 0; }));
  const pid_t worker = test_support::ReadPid(child_pidfile);

  RunResult check =
      RunProgram({Inspect(), "--pidfile=" + child_pidfile, "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.stdout_text;
  EXPECT_THAT(check.stdout_text,
              HasSubstr(absl::StrCat("PASS  not a child of an interactive "
                                     "shell (parent ",
                                     supervisor)));
  EXPECT_THAT(check.stdout_text, Not(HasSubstr("FAIL")));

  RunResult stop = RunProgram(
      {ticker, "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  test_support::KillAndWait(worker);
  test_support::KillAndWait(supervisor);
}

TEST(InspectTest, CheckFailsAProcessThatIsNoDaemon) {
  // inspect inspecting itself: a child of this test, in its session, with
  // stdin on a regular file.
  const std::string input = test_support::MakeTempDir("inspect") + "/input";
  {
    int fd = open(input.c_str(), O_WRONLY | O_CREAT, 0600);
    close(fd);
  }
  RunResult check = RunProgram({Inspect(), "--check"}, {}, input);
  EXPECT_EQ(check.exit_code, 1) << check.stdout_text;
  EXPECT_THAT(check.stdout_text, HasSubstr("FAIL  stdin on /dev/null"));
  EXPECT_THAT(check.stdout_text,
              HasSubstr("FAIL  not a child of an interactive shell"));
}

TEST(InspectTest, UnreadableTargetsExitTwo) {
  RunResult missing = RunProgram({Inspect(), "--pid=4194305"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.stderr_text, HasSubstr("cannot read process 4194305"));
  // Issue 22.11: said plainly; 2 (SPEC: "the process cannot be read"), not
  // 1, which --check keeps for a rule that fails.
  EXPECT_THAT(missing.stderr_text, HasSubstr("no process with pid 4194305"));
  RunResult checked = RunProgram({Inspect(), "--pid=4194305", "--check"});
  EXPECT_EQ(checked.exit_code, 2);
  EXPECT_THAT(checked.stderr_text, HasSubstr("no process with pid 4194305"));

  RunResult no_daemon = RunProgram(
      {Inspect(),
       "--pidfile=" + test_support::MakeTempDir("inspect") + "/none.pid"});
  EXPECT_EQ(no_daemon.exit_code, 2);
  EXPECT_THAT(no_daemon.stderr_text, HasSubstr("no process holds it"));

  RunResult bad_format = RunProgram({Inspect(), "--format=xml"});
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_THAT(bad_format.stderr_text, HasSubstr("--format=xml"));
}

// A strict JSON parser (RFC 8259), enough to tell valid from invalid and to
// read strings back: no python on a fresh machine to do it for the test.
struct Json {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  std::string text;  // a string's decoded UTF-8, a number's digits
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* Get(const std::string& key) const {
    for (const auto& [name, value] : members) {
      if (name == key) return &value;
    }
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& in) : in_(in) {}

  // The document, or an error naming the offset.
  bool Parse(Json* out, std::string* error) {
    SkipSpace();
    if (!Value(out, 0)) {
      *error = absl::StrCat("invalid JSON at byte ", pos_, ": ", why_);
      return false;
    }
    SkipSpace();
    if (pos_ != in_.size()) {
      *error = absl::StrCat("trailing bytes at ", pos_);
      return false;
    }
    return true;
  }

 private:
  bool Fail(const char* why) {
    why_ = why;
    return false;
  }
  int Peek() const {
    return pos_ < in_.size() ? static_cast<unsigned char>(in_[pos_]) : -1;
  }
  void SkipSpace() {
    while (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' ||
           Peek() == '\r') {
      ++pos_;
    }
  }
  bool Literal(const char* word) {
    const std::string w = word;
    if (in_.compare(pos_, w.size(), w) != 0) return Fail("bad literal");
    pos_ += w.size();
    return true;
  }
  bool Value(Json* out, int depth) {
    if (depth > 64) return Fail("too deep");
    switch (Peek()) {
      case '{':
        return Object(out, depth);
      case '[':
        return Array(out, depth);
      case '"':
        out->type = Json::kString;
        return String(&out->text);
      case 't':
        out->type = Json::kBool;
        out->text = "true";
        return Literal("true");
      case 'f':
        out->type = Json::kBool;
        out->text = "false";
        return Literal("false");
      case 'n':
        out->type = Json::kNull;
        return Literal("null");
      default:
        out->type = Json::kNumber;
        return Number(&out->text);
    }
  }
  bool Object(Json* out, int depth) {
    out->type = Json::kObject;
    ++pos_;
    SkipSpace();
    if (Peek() == '}') return ++pos_, true;
    for (;;) {
      SkipSpace();
      std::string key;
      if (Peek() != '"' || !String(&key)) return Fail("bad key");
      SkipSpace();
      if (Peek() != ':') return Fail("no colon");
      ++pos_;
      SkipSpace();
      Json value;
      if (!Value(&value, depth + 1)) return false;
      out->members.emplace_back(key, std::move(value));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') return ++pos_, true;
      return Fail("object not closed");
    }
  }
  bool Array(Json* out, int depth) {
    out->type = Json::kArray;
    ++pos_;
    SkipSpace();
    if (Peek() == ']') return ++pos_, true;
    for (;;) {
      SkipSpace();
      Json value;
      if (!Value(&value, depth + 1)) return false;
      out->items.push_back(std::move(value));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') return ++pos_, true;
      return Fail("array not closed");
    }
  }
  bool Digits() {
    const size_t start = pos_;
    while (Peek() >= '0' && Peek() <= '9') ++pos_;
    return pos_ > start;
  }
  bool Number(std::string* out) {
    const size_t start = pos_;
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (!Digits()) {
      return Fail("bad number");
    }
    if (Peek() == '.') {
      ++pos_;
      if (!Digits()) return Fail("bad fraction");
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!Digits()) return Fail("bad exponent");
    }
    *out = in_.substr(start, pos_ - start);
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  bool Hex4(uint32_t* out) {
    *out = 0;
    for (int i = 0; i < 4; ++i) {
      const int c = Peek();
      int v;
      if (c >= '0' && c <= '9') {
        v = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v = c - 'A' + 10;
      } else {
        return Fail("bad \\u escape");
      }
      *out = *out * 16 + static_cast<uint32_t>(v);
      ++pos_;
    }
    return true;
  }
  // One UTF-8 character, checked as strictly as RFC 3629 asks.
  bool Utf8(std::string* out) {
    const int b0 = Peek();
    int length;
    uint32_t min;
    if (b0 < 0x80) {
      length = 1, min = 0;
    } else if ((b0 & 0xe0) == 0xc0) {
      length = 2, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
      length = 3, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
      length = 4, min = 0x10000;
    } else {
      return Fail("not UTF-8");
    }
    uint32_t cp =
        static_cast<uint32_t>(b0) & (0x7f >> (length == 1 ? 0 : length));
    for (int i = 1; i < length; ++i) {
      if (pos_ + i >= in_.size()) return Fail("truncated UTF-8");
      const unsigned char b = static_cast<unsigned char>(in_[pos_ + i]);
      if ((b & 0xc0) != 0x80) return Fail("not UTF-8");
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return Fail("invalid UTF-8");
    }
    out->append(in_, pos_, length);
    pos_ += length;
    return true;
  }
  bool String(std::string* out) {
    ++pos_;  // "
    for (;;) {
      const int c = Peek();
      if (c < 0) return Fail("string not closed");
      if (c == '"') return ++pos_, true;
      if (c < 0x20) return Fail("raw control character in a string");
      if (c != '\\') {
        if (!Utf8(out)) return false;
        continue;
      }
      ++pos_;
      const int e = Peek();
      ++pos_;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(static_cast<char>(e));
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return Fail("lone low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low;
            if (Peek() != '\\') return Fail("lone high surrogate");
            ++pos_;
            if (Peek() != 'u') return Fail("lone high surrogate");
            ++pos_;
            if (!Hex4(&low) || low < 0xdc00 || low > 0xdfff) {
              return Fail("bad surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
  }

  const std::string& in_;
  size_t pos_ = 0;
  const char* why_ = "";
};

TEST(JsonParserTest, RejectsWhatIsNotJson) {
  for (const std::string bad :
       {"", "{", "{\"a\":1,}", "[1 2]", "\"\x01\"", "\"\xff\"", "\"\xc0\xaf\"",
        "\"\\x41\"", "\"\\ud800\"", "01", "1.", "tru", "{} x", "{'a':1}"}) {
    Json value;
    std::string error;
    EXPECT_FALSE(JsonParser(bad).Parse(&value, &error)) << bad;
  }
  Json value;
  std::string error;
  ASSERT_TRUE(JsonParser(R"({"a":[1,-2.5e3,true,null,"\u00ff\ud83d\ude00"]})")
                  .Parse(&value, &error))
      << error;
  EXPECT_EQ(value.Get("a")->items[4].text, "\xc3\xbf\xf0\x9f\x98\x80");
}

// What JSON makes of a byte string: bytes outside valid UTF-8 become the
// character of the same number (the documented lossy mapping); a valid
// multi-byte sequence (all this test uses are three bytes, E0 to EF) reads
// as itself.
std::string AsJsonReadsIt(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    auto continuation = [&](size_t k) {
      return k < bytes.size() &&
             (static_cast<unsigned char>(bytes[k]) & 0xc0) == 0x80;
    };
    if (c >= 0xe1 && c <= 0xec && continuation(i + 1) && continuation(i + 2)) {
      out.append(bytes, i, 3);
      i += 2;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

TEST(InspectTest, HostileNamesGiveValidJsonAndCannotForgeTextLines) {
  // A process that chose its argv, its directory's name and the name of a
  // file it holds open: an invalid byte, a newline, an escape sequence.
  const std::string dir =
      test_support::MakeTempDir("inspect") + "/cwd\xff\n\x1b[1mbold";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const std::string file = dir + "/f\xfe\n\x1b]0;title\x07";
  const std::vector<std::string> args = {
      "/bin/cat", "-",
      // Two literals end the \xff escape.
      "a\xff"  // NOLINT(bugprone-suspicious-missing-comma)
      "b",
      "line\nFAIL  forged", "\x1b[2Jclear", "", "with space",
      // Bidi overrides and isolates, line and paragraph separators (issue
      // 23.11): they reorder or break a terminal line like a control.
      "\u202Eevil\u2066x\u2069\u2028y\u2029"};
  int input[2];
  ASSERT_EQ(pipe2(input, O_CLOEXEC), 0);
  const pid_t child = fork();
  if (child == 0) {
    int fd = open(file.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd < 0 || dup2(fd, 7) != 7 || dup2(input[0], 0) != 0 ||
        chdir(dir.c_str()) != 0) {
      _exit(127);
    }
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(input[0]);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(test_support::ReadFileOrEmpty(
                                 absl::StrCat("/proc/", child, "/cmdline")),
                             "forged");
  }));

  RunResult json_run = RunProgram(
      {Inspect(), absl::StrCat("--pid=", child), "--format=json", "--check"});
  RunResult text_run =
      RunProgram({Inspect(), absl::StrCat("--pid=", child), "--check"});
  close(input[1]);  // cat reads end-of-file and exits
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);

  EXPECT_EQ(json_run.exit_code, 1) << json_run.stderr_text;
  Json doc;
  std::string error;
  ASSERT_TRUE(JsonParser(json_run.stdout_text).Parse(&doc, &error))
      << error << "\n"
      << json_run.stdout_text;
  ASSERT_EQ(doc.type, Json::kObject);
  const Json* argv = doc.Get("argv");
  ASSERT_NE(argv, nullptr);
  ASSERT_EQ(argv->items.size(), args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    EXPECT_EQ(argv->items[i].text, AsJsonReadsIt(args[i])) << i;
  }
  const Json* command = doc.Get("command");
  ASSERT_NE(command, nullptr);
  EXPECT_EQ(command->text, AsJsonReadsIt(absl::StrJoin(args, " ")));
  EXPECT_EQ(doc.Get("cwd")->text, AsJsonReadsIt(dir));
  bool found = false;
  for (const Json& fd : doc.Get("fds")->items) {
    if (fd.Get("fd")->text == "7") {
      found = true;
      EXPECT_EQ(fd.Get("target")->text, AsJsonReadsIt(file));
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(doc.Get("kernel_thread")->text, "false");

  // Text: every line is one of inspect's own, nothing raw reaches the
  // terminal.
  EXPECT_EQ(text_run.exit_code, 1) << text_run.stderr_text;
  const std::string& text = text_run.stdout_text;
  for (char c : text) {
    const unsigned char b = static_cast<unsigned char>(c);
    EXPECT_TRUE(b == '\n' || (b >= 0x20 && b < 0x7f))
        << "raw byte " << static_cast<int>(b) << " in\n"
        << text;
  }
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    EXPECT_FALSE(absl::StartsWith(line, "FAIL  forged")) << text;
  }
  EXPECT_THAT(text, HasSubstr("line\\nFAIL  forged \\x1b[2Jclear  with space"));
  EXPECT_THAT(text, HasSubstr("a\\xffb"));
  EXPECT_THAT(text, HasSubstr("cwd\\xff\\n\\x1b[1mbold"));
  EXPECT_THAT(text, HasSubstr("/f\\xfe\\n\\x1b]0;title\\x07"));
  EXPECT_THAT(text, HasSubstr("\\xe2\\x80\\xaeevil\\xe2\\x81\\xa6x"
                              "\\xe2\\x81\\xa9\\xe2\\x80\\xa8y"
                              "\\xe2\\x80\\xa9"));
}

// Issue 18.16, found by an attack: a process whose directory is longer
// than PATH_MAX made inspect exit 2 with no report at all. Every attribute
// it could read is reported, the rest marked unreadable, and --check still
// judges the process.
TEST(InspectTest, ACwdLongerThanPathMaxIsMarkedUnreadableAndTheRestReported) {
  const std::string top = test_support::MakeTempDir("inspect") + "/deep";
  ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
  const std::string part(200, 'd');
  int input[2];
  ASSERT_EQ(pipe2(input, O_CLOEXEC), 0);
  const pid_t child = fork();
  if (child == 0) {
    // 30 levels of 201 bytes: over 6000 bytes, past PATH_MAX (4096).
    if (chdir(top.c_str()) != 0) _exit(127);
    for (int i = 0; i < 30; ++i) {
      if (mkdir(part.c_str(), 0755) != 0 || chdir(part.c_str()) != 0) {
        _exit(127);
      }
    }
    const int fd = open("held", O_RDWR | O_CREAT, 0644);
    if (fd < 0 || dup2(fd, 7) != 7 || dup2(input[0], 0) != 0) _exit(127);
    execl("/bin/cat", "cat", "-", "long-cwd-marker",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(input[0]);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(test_support::ReadFileOrEmpty(
                                 absl::StrCat("/proc/", child, "/cmdline")),
                             "long-cwd-marker");
  }));
  RunResult json_run = RunProgram(
      {Inspect(), absl::StrCat("--pid=", child), "--format=json", "--check"});
  RunResult text_run =
      RunProgram({Inspect(), absl::StrCat("--pid=", child), "--check"});
  close(input[1]);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // GNU rm walks a deep tree with openat(2).
  RunProgram({"/bin/rm", "-rf", top});

  // A verdict (stdin is a pipe: exit 1), not "cannot read" (2).
  EXPECT_EQ(json_run.exit_code, 1) << json_run.stderr_text;
  Json doc;
  std::string error;
  ASSERT_TRUE(JsonParser(json_run.stdout_text).Parse(&doc, &error))
      << error << "\n"
      << json_run.stdout_text;
  EXPECT_EQ(doc.Get("pid")->text, absl::StrCat(child));
  EXPECT_EQ(doc.Get("uid")->text, absl::StrCat(getuid()));
  EXPECT_EQ(doc.Get("command")->text, "cat - long-cwd-marker");
  ASSERT_NE(doc.Get("cwd"), nullptr);
  EXPECT_EQ(doc.Get("cwd")->type, Json::kNull);
  const Json* unreadable = doc.Get("unreadable");
  ASSERT_NE(unreadable, nullptr) << json_run.stdout_text;
  ASSERT_NE(unreadable->Get("cwd"), nullptr) << json_run.stdout_text;
  EXPECT_THAT(unreadable->Get("cwd")->text, HasSubstr("too long"));
  // The descriptor on the deep file is listed, its target unreadable.
  bool found = false;
  for (const Json& fd : doc.Get("fds")->items) {
    if (fd.Get("fd")->text != "7") continue;
    found = true;
    EXPECT_EQ(fd.Get("target")->type, Json::kNull);
    ASSERT_NE(fd.Get("unreadable"), nullptr);
  }
  EXPECT_TRUE(found) << json_run.stdout_text;
  EXPECT_NE(doc.Get("checks"), nullptr);

  EXPECT_EQ(text_run.exit_code, 1) << text_run.stderr_text;
  EXPECT_THAT(text_run.stdout_text, HasSubstr("cwd             unreadable ("));
  EXPECT_THAT(text_run.stdout_text, HasSubstr("7 -> unreadable ("));
  EXPECT_THAT(text_run.stdout_text, HasSubstr("FAIL  stdin on /dev/null"));
  EXPECT_THAT(text_run.stdout_text, HasSubstr("PASS  no controlling terminal"));
}

// Issue 23.11: inspect on a zombie exited 2 with no JSON. It is reported as
// a zombie, with its state; --check says it is no running daemon.
TEST(InspectTest, AZombieIsReportedAsOne) {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::StatOf(child).state() == 'Z'; }));
  RunResult json_run =
      RunProgram({Inspect(), absl::StrCat("--pid=", child), "--format=json"});
  RunResult check_run =
      RunProgram({Inspect(), absl::StrCat("--pid=", child), "--check"});
  waitpid(child, nullptr, 0);

  EXPECT_EQ(json_run.exit_code, 0) << json_run.stderr_text;
  Json doc;
  std::string error;
  ASSERT_TRUE(JsonParser(json_run.stdout_text).Parse(&doc, &error))
      << error << "\n"
      << json_run.stdout_text;
  EXPECT_EQ(doc.Get("pid")->text, absl::StrCat(child));
  EXPECT_EQ(doc.Get("ppid")->text, absl::StrCat(getpid()));
  ASSERT_NE(doc.Get("state"), nullptr) << json_run.stdout_text;
  EXPECT_EQ(doc.Get("state")->text, "Z");
  ASSERT_NE(doc.Get("zombie"), nullptr);
  EXPECT_EQ(doc.Get("zombie")->text, "true");

  EXPECT_EQ(check_run.exit_code, 1) << check_run.stderr_text;
  EXPECT_THAT(check_run.stdout_text, HasSubstr("state           Z (zombie"));
  EXPECT_THAT(check_run.stdout_text,
              HasSubstr(absl::StrCat("FAIL  a running process (pid ", child,
                                     " is a zombie")));
}

TEST(InspectTest, KernelThreadIsNotJudged) {
  // kthreadd, pid 2, is visible only outside a pid namespace.
  const ProcStat stat = test_support::StatOf(2);
  uint64_t flags = 0;
  if (!stat.ParseField(ProcStat::kFlags, &flags) ||
      !(flags & ProcStat::kPfKthread)) {
    GTEST_SKIP() << "no kernel thread visible (pid namespace)";
  }
  RunResult check = RunProgram({Inspect(), "--pid=2", "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.stdout_text;
  EXPECT_THAT(check.stdout_text, HasSubstr("N/A   daemon(7) rules"));
  EXPECT_THAT(check.stdout_text, Not(HasSubstr("FAIL")));
}

}  // namespace
}  // namespace daemonkit
