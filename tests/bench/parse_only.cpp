// The floor under `stove plan`: how long libyaml alone takes to read the
// infrastructure file (events only, no tree), and nlohmann::json alone to
// parse the state into a DOM. stove-bench-parse FILE.yaml STATE.json
#include "parse/source.hpp"

#include <nlohmann/json.hpp>
#include <yaml.h>

#include <chrono>
#include <cstdio>

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: stove-bench-parse FILE.yaml STATE.json\n");
    return 2;
  }
  stove::SourceFile yaml = stove::SourceFile::read(argv[1]);
  stove::SourceFile state = stove::SourceFile::read(argv[2]);

  auto start = std::chrono::steady_clock::now();
  yaml_parser_t parser;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(yaml.text.data()),
                               yaml.text.size());
  size_t events = 0;
  for (bool done = false; !done;) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) {
      std::fprintf(stderr, "libyaml error: %s\n", parser.problem);
      return 1;
    }
    done = event.type == YAML_STREAM_END_EVENT;
    ++events;
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  double yaml_seconds = seconds_since(start);

  start = std::chrono::steady_clock::now();
  nlohmann::json j = nlohmann::json::parse(state.text);
  double json_seconds = seconds_since(start);

  std::printf("libyaml events only: %.3f s (%zu events, %zu bytes)\n", yaml_seconds, events,
              yaml.text.size());
  std::printf("nlohmann::json DOM:  %.3f s (%zu resources, %zu bytes)\n", json_seconds,
              j["resources"].size(), state.text.size());
  return 0;
}
