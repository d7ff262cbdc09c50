#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "common/error.h"
#include "common/json.h"

namespace concierge::app {

// Output carries the --json choice: human text by default, one JSON document with --json.
struct Output {
  bool json = false;
  void Print(const Json& document, const std::string& text) const;
};

// Every subcommand body returns a Status; main turns it into the exit code and an error line.
using Action = std::function<Status()>;

void AddMakerCommands(CLI::App& app, Action& action, Output& output);
void AddSiteCommands(CLI::App& app, Action& action, Output& output);
void AddDeviceCommands(CLI::App& app, Action& action, Output& output);
void AddLabCommands(CLI::App& app, Action& action, Output& output);

// WaitForTermination blocks until SIGINT or SIGTERM (blocked in every thread by main).
void WaitForTermination();

// WriteListenAddress records where a server listens (DIR/listen.addr), so scripts that start
// it on port 0 can find it.
Status WriteListenAddress(const std::string& dir, const std::string& host, uint16_t port);

}  // namespace concierge::app
