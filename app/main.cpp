// The glassbox command line: `glassbox <command> [options]`; commands live in app/cmd_*.cpp.
// Errors (bad files, bad shapes) print one line naming the file or op and exit non-zero.
#include <cstdio>
#include <exception>
#include <map>

#include "app/command.h"
#include "autograd/backends.h"

namespace gb::app {
std::vector<Command>& commands() {
  static std::vector<Command> c;
  return c;
}
std::string& command_line() {
  static std::string s;
  return s;
}
}  // namespace gb::app

int main(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) gb::app::command_line() += (i ? " " : "") + std::string(argv[i]);
  CLI::App app{"glassbox: TransUNet liver and tumour segmentation with explanations, from scratch"};
  app.require_subcommand(1);
  std::map<CLI::App*, gb::app::Action> actions;
  for (auto& c : gb::app::commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    actions[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, act] : actions)
      if (sub->parsed()) return act();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "glassbox: error: %s\n", e.what());
    return 1;
  }
  return 2;
}
