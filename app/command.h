// Subcommand registry: each app/cmd_<name>.cpp registers one `glassbox <name>` with CLI11.
//   static gb::app::Register reg("audit", "per-layer table and traced op listing", [](CLI::App& sub) {
//     auto* name = new std::string("r50-vit-b16");   // options owned for the program's lifetime
//     sub.add_option("--model", *name, "model config");
//     return [name] { return run_audit(*name); };   // returns the exit status
//   });
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gb::app {

using Action = std::function<int()>;
using Setup = std::function<Action(CLI::App& sub)>;

struct Command {
  std::string name, help;
  Setup setup;
};
std::vector<Command>& commands();
// The whole command line as typed (for run.json and reports).
std::string& command_line();

struct Register {
  Register(std::string name, std::string help, Setup setup) {
    commands().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

}  // namespace gb::app
