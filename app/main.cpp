// The glassbox command line. Subcommands are added as their issues land.
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd.empty() || cmd == "--help" || cmd == "help") {
    std::printf("usage: glassbox <command>\n");
    return cmd.empty() ? 2 : 0;
  }
  std::fprintf(stderr, "glassbox: unknown command '%s'\n", cmd.c_str());
  return 2;
}
