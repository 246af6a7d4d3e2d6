// Runs the glassbox program as a user does (GB_GLASSBOX_BIN), for the command-line tests: stdout and
// stderr together into a temporary log, exit status decoded (128 + signal when killed).
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace gbcli {

struct Result {
  int code = -1;
  std::string out;  // stdout + stderr
};

// on_start (optional) gets the child's pid, e.g. to signal it.
inline Result glassbox(const std::vector<std::string>& args, const std::function<void(pid_t)>& on_start = {}) {
  namespace fs = std::filesystem;
  static int n = 0;
  const std::string log =
      (fs::temp_directory_path() / ("gb_cli_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".log")).string();
  std::vector<std::string> all = {GB_GLASSBOX_BIN};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid;
  EXPECT_EQ(posix_spawn(&pid, GB_GLASSBOX_BIN, &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  if (on_start) on_start(pid);
  int st = 0;
  waitpid(pid, &st, 0);
  Result r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  std::ifstream f(log, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  r.out = ss.str();
  fs::remove(log);
  return r;
}

}  // namespace gbcli
