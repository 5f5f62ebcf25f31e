#include "util/error.hpp"
#include "parse/source.hpp"
#include "support/temp_dir.hpp"
#include "unit/parse/mark_string.hpp"

#include <doctest/doctest.h>

#include <string>

using stove::Diagnostic;
using stove::Diagnostics;
using stove::Mark;
using stove::Severity;
using stove::SourceFile;

namespace {

std::string render(const SourceFile& file, Mark mark, const std::string& message,
                   Severity severity = Severity::error) {
  return stove::render_diagnostic(file, Diagnostic{severity, mark, message}, false);
}

} // namespace

TEST_SUITE("SourceFile") {

  TEST_CASE("read returns the path and the exact bytes of the file") {
    stove::test::TempDir dir;
    const std::string content("a: 1\r\nb: \0x\n", 12);
    const std::string path = dir.write("infra.yaml", content);
    const SourceFile file = SourceFile::read(path);
    CHECK(file.path == path);
    CHECK(file.text == content);
  }

  TEST_CASE("read of a missing file throws an io error naming the path") {
    stove::test::TempDir dir;
    const std::string path = (dir / "missing.yaml").string();
    try {
      SourceFile::read(path);
      FAIL("no exception");
    } catch (const stove::Error& e) {
      CHECK(e.kind() == stove::ErrorKind::io);
      CHECK(std::string(e.what()) == path + ": cannot read: No such file or directory");
    }
  }

  TEST_CASE("read of a directory throws an io error") {
    stove::test::TempDir dir;
    const std::string path = dir.path().string();
    try {
      SourceFile::read(path);
      FAIL("no exception");
    } catch (const stove::Error& e) {
      CHECK(e.kind() == stove::ErrorKind::io);
      CHECK(std::string(e.what()) == path + ": cannot read: Is a directory");
    }
  }

  TEST_CASE("line_text returns each line without its line break") {
    const SourceFile file{"f.yaml", "one\ntwo\r\nthree\rfour\n\nsix"};
    CHECK(file.line_text(0) == "");
    CHECK(file.line_text(1) == "one");
    CHECK(file.line_text(2) == "two");
    CHECK(file.line_text(3) == "three");
    CHECK(file.line_text(4) == "four");
    CHECK(file.line_text(5) == "");
    CHECK(file.line_text(6) == "six");
    CHECK(file.line_text(7) == "");
    CHECK(file.line_count() == 6);
  }

  TEST_CASE("line_text breaks lines where the YAML parser does") {
    // U+0085, U+2028 and U+2029 end lines for libyaml, so they must here.
    const SourceFile file{"f.yaml", "a\xC2\x85"
                                    "b\xE2\x80\xA8"
                                    "c\xE2\x80\xA9"
                                    "d\xE2\x80\xAA"};
    CHECK(file.line_count() == 4);
    CHECK(file.line_text(1) == "a");
    CHECK(file.line_text(2) == "b");
    CHECK(file.line_text(3) == "c");
    CHECK(file.line_text(4) == "d\xE2\x80\xAA");
  }

  TEST_CASE("line_count does not count a line after the final line break") {
    CHECK(SourceFile{"f", ""}.line_count() == 0);
    CHECK(SourceFile{"f", "a"}.line_count() == 1);
    CHECK(SourceFile{"f", "a\n"}.line_count() == 1);
    CHECK(SourceFile{"f", "a\r\n"}.line_count() == 1);
    CHECK(SourceFile{"f", "a\n\n"}.line_count() == 2);
    CHECK(SourceFile{"f", "\n"}.line_count() == 1);
  }

  TEST_CASE("line_text leaves a UTF-8 byte order mark out of line 1") {
    const SourceFile file{"f.yaml", "\xEF\xBB\xBF"
                                    "a: 1\nb: 2\n"};
    CHECK(file.line_text(1) == "a: 1");
    CHECK(file.line_text(2) == "b: 2");
    CHECK(file.mark_at(3) == Mark{1, 1});
    CHECK(file.mark_at(0) == Mark{1, 1});
  }

  TEST_CASE("line_text finds lines of a large file") {
    std::string text;
    for (int i = 0; i < 200000; ++i)
      text += "line " + std::to_string(i) + "\n";
    const SourceFile file{"big.yaml", text};
    CHECK(file.line_count() == 200000);
    CHECK(file.line_text(1) == "line 0");
    CHECK(file.line_text(123457) == "line 123456");
    CHECK(file.line_text(200000) == "line 199999");
    CHECK(file.line_text(200001) == "");
  }

  TEST_CASE("copied, moved and reassigned files answer for their own text") {
    SourceFile original{"f.yaml", "a\nb\n"};
    CHECK(original.line_text(2) == "b");
    SourceFile copy = original;
    CHECK(copy.line_text(2) == "b");
    copy = SourceFile{"f.yaml", "ab\n\n"};  // same size, same small-string buffer
    CHECK(copy.line_text(1) == "ab");
    CHECK(copy.line_text(2) == "");
    copy = SourceFile{"f.yaml", "x\ny\nz\n"};
    CHECK(copy.line_text(2) == "y");
    CHECK(copy.line_count() == 3);
    CHECK(original.line_text(2) == "b");
    original = copy;
    CHECK(original.line_text(3) == "z");
    SourceFile moved = std::move(original);
    CHECK(moved.line_text(1) == "x");
  }

  TEST_CASE("mark_at counts columns in code points and bad bytes as one each") {
    const SourceFile file{"f.yaml", "ab\ncaf\xC3\xA9 x\n\xFF\xFEz"};
    CHECK(file.mark_at(0) == Mark{1, 1});
    CHECK(file.mark_at(2) == Mark{1, 3});
    CHECK(file.mark_at(3) == Mark{2, 1});
    CHECK(file.mark_at(8) == Mark{2, 5}); // the space after "café"
    CHECK(file.mark_at(9) == Mark{2, 6});
    CHECK(file.mark_at(13) == Mark{3, 3}); // "z" after two invalid bytes
    CHECK(file.mark_at(1000) == Mark{3, 4});
  }

} // TEST_SUITE

TEST_SUITE("Diagnostics") {

  TEST_CASE("errors and warnings are collected and counted apart") {
    Diagnostics diagnostics;
    CHECK_FALSE(diagnostics.has_errors());
    diagnostics.warning(Mark{1, 1}, "w");
    CHECK_FALSE(diagnostics.has_errors());
    diagnostics.error(Mark{2, 1}, "e");
    CHECK(diagnostics.has_errors());
    CHECK(diagnostics.error_count() == 1);
    REQUIRE(diagnostics.all().size() == 2);
    CHECK(diagnostics.all()[0].severity == Severity::warning);
    CHECK(diagnostics.all()[1].severity == Severity::error);
    CHECK(diagnostics.all()[1].message == "e");
  }

  TEST_CASE("sort orders by position and keeps the order of equal positions") {
    Diagnostics diagnostics;
    diagnostics.error(Mark{3, 1}, "third");
    diagnostics.error(Mark{1, 5}, "second");
    diagnostics.warning(Mark{1, 2}, "first");
    diagnostics.error(Mark{3, 1}, "fourth");
    diagnostics.error(Mark{}, "unplaced");
    diagnostics.error(Mark{3, 1}, "fifth");
    diagnostics.sort();
    std::string order;
    for (const auto& d : diagnostics.all())
      order += d.message + ",";
    CHECK(order == "unplaced,first,second,third,fourth,fifth,");
  }

} // TEST_SUITE

TEST_SUITE("render_diagnostic") {

  TEST_CASE("renders the position, message, source line and a caret") {
    const SourceFile file{"infra.yaml", "machines:\n  - name: web\n  -\n    memroy: 1024\n"};
    CHECK(render(file, Mark{4, 5}, "unknown field \"memroy\"; did you mean \"memory\"?") ==
          "infra.yaml:4:5: error: unknown field \"memroy\"; did you mean \"memory\"?\n"
          "    memroy: 1024\n"
          "    ^\n");
  }

  TEST_CASE("uses the words warning and note for those severities") {
    const SourceFile file{"f.yaml", "a: 1\n"};
    CHECK(render(file, Mark{1, 4}, "odd", Severity::warning) == "f.yaml:1:4: warning: odd\n"
                                                                "a: 1\n"
                                                                "   ^\n");
    CHECK(render(file, Mark{1, 1}, "see here", Severity::note) == "f.yaml:1:1: note: see here\n"
                                                                  "a: 1\n"
                                                                  "^\n");
  }

  TEST_CASE("an unknown position gives only the path and the message") {
    const SourceFile file{"f.yaml", "a: 1\n"};
    CHECK(render(file, Mark{}, "empty file") == "f.yaml: error: empty file\n");
  }

  TEST_CASE("a position past the last line gives no source line") {
    const SourceFile file{"f.yaml", "a: \"x\n"};
    CHECK(render(file, Mark{2, 1}, "end of file") == "f.yaml:2:1: error: end of file\n");
    CHECK(render(SourceFile{"e.yaml", ""}, Mark{1, 1}, "empty") == "e.yaml:1:1: error: empty\n");
  }

  TEST_CASE("the caret line copies tabs so the caret lines up") {
    const SourceFile file{"f.yaml", "\tkey:\t\tvalue\n"};
    CHECK(render(file, Mark{1, 8}, "m") == "f.yaml:1:8: error: m\n"
                                           "\tkey:\t\tvalue\n"
                                           "\t    \t\t^\n");
  }

  TEST_CASE("columns count code points so the caret lines up after UTF-8 text") {
    const SourceFile file{"f.yaml", "name: \"caf\xC3\xA9\xE2\x82\xAC\" x\n"};
    CHECK(render(file, Mark{1, 15}, "m") == "f.yaml:1:15: error: m\n"
                                            "name: \"caf\xC3\xA9\xE2\x82\xAC\" x\n"
                                            "              ^\n");
  }

  TEST_CASE("a trailing carriage return is not echoed") {
    const SourceFile file{"f.yaml", "a: 1\r\nb: 2\r\n"};
    CHECK(render(file, Mark{2, 4}, "m") == "f.yaml:2:4: error: m\n"
                                           "b: 2\n"
                                           "   ^\n");
  }

  TEST_CASE("a caret just past the end of the line goes after the last character") {
    const SourceFile file{"f.yaml", "a: 'x"};
    CHECK(render(file, Mark{1, 6}, "m") == "f.yaml:1:6: error: m\n"
                                           "a: 'x\n"
                                           "     ^\n");
    CHECK(render(file, Mark{1, 90}, "m") == "f.yaml:1:90: error: m\n"
                                            "a: 'x\n"
                                            "     ^\n");
  }

  TEST_CASE("control characters and invalid UTF-8 are echoed as question marks") {
    const SourceFile file{"f.yaml", std::string("a\x1B[31m\x00\x7F\xC2\x9B\xFF\xE2\x80\xAE"
                                                "b",
                                                15)};
    CHECK(render(file, Mark{1, 11}, "m") == "f.yaml:1:11: error: m\n"
                                            "a?[31m?????b\n"
                                            "          ^\n");
  }

  TEST_CASE("a line of 120 columns is shown whole") {
    const std::string line(120, 'x');
    const SourceFile file{"f.json", line + "\n"};
    CHECK(render(file, Mark{1, 120}, "m") ==
          "f.json:1:120: error: m\n" + line + "\n" + std::string(119, ' ') + "^\n");
  }

  TEST_CASE("a long line is cut to a window around the column") {
    std::string line;
    for (int i = 0; i < 1000; ++i)
      line += static_cast<char>('a' + i % 26);
    const SourceFile file{"f.json", line + "\n"};

    SUBCASE("near the start the window is cut on the right only") {
      CHECK(render(file, Mark{1, 10}, "m") == "f.json:1:10: error: m\n" + line.substr(0, 100) +
                                                  "...\n" + std::string(9, ' ') + "^\n");
    }
    SUBCASE("in the middle it is cut on both sides") {
      CHECK(render(file, Mark{1, 501}, "m") == "f.json:1:501: error: m\n..." +
                                                   line.substr(450, 100) + "...\n" +
                                                   std::string(53, ' ') + "^\n");
    }
    SUBCASE("near the end it is cut on the left only") {
      CHECK(render(file, Mark{1, 990}, "m") ==
            "f.json:1:990: error: m\n..." + line.substr(900) + "\n" + std::string(92, ' ') + "^\n");
    }
    SUBCASE("past the end the caret follows the last character") {
      CHECK(render(file, Mark{1, 1001}, "m") == "f.json:1:1001: error: m\n..." + line.substr(900) +
                                                    "\n" + std::string(103, ' ') + "^\n");
    }
  }

  TEST_CASE("a huge single line renders only its window") {
    std::string line(5'000'000, 'x');
    line[2'500'000] = 'Y';
    const SourceFile file{"min.json", line};
    const std::string out = render(file, Mark{1, 2'500'001}, "m");
    CHECK(out.size() < 300);
    CHECK(out == "min.json:1:2500001: error: m\n..." + std::string(50, 'x') + "Y" +
                     std::string(49, 'x') + "...\n" + std::string(53, ' ') + "^\n");
  }

  TEST_CASE("the long-line window counts code points and keeps tabs in the caret line") {
    std::string line = "\t";
    for (int i = 0; i < 200; ++i)
      line += "\xC3\xA9"; // é
    const SourceFile file{"f.yaml", line};
    CHECK(render(file, Mark{1, 40}, "m") == "f.yaml:1:40: error: m\n\t" + line.substr(1, 99 * 2) +
                                                "...\n\t" + std::string(38, ' ') + "^\n");
  }

  TEST_CASE("color marks the position bold, the severity in its color and the caret green") {
    const SourceFile file{"f.yaml", "a: 1\n"};
    CHECK(stove::render_diagnostic(file, Diagnostic{Severity::error, Mark{1, 4}, "bad"}, true) ==
          "\x1b[1mf.yaml:1:4:\x1b[0m \x1b[1;31merror:\x1b[0m bad\n"
          "a: 1\n"
          "   \x1b[1;32m^\x1b[0m\n");
    CHECK(stove::render_diagnostic(file, Diagnostic{Severity::warning, Mark{}, "meh"}, true) ==
          "\x1b[1mf.yaml:\x1b[0m \x1b[1;35mwarning:\x1b[0m meh\n");
  }

  TEST_CASE("without color there are no escape codes") {
    const SourceFile file{"f.yaml", "a: 1\n"};
    const std::string out =
        stove::render_diagnostic(file, Diagnostic{Severity::warning, Mark{1, 2}, "x"}, false);
    CHECK(out.find('\x1b') == std::string::npos);
  }

  TEST_CASE("render_diagnostics renders every diagnostic in order") {
    const SourceFile file{"f.yaml", "a: 1\nb: 2\n"};
    Diagnostics diagnostics;
    diagnostics.error(Mark{2, 1}, "second line");
    diagnostics.warning(Mark{}, "whole file");
    CHECK(stove::render_diagnostics(file, diagnostics, false) == "f.yaml:2:1: error: second line\n"
                                                                 "b: 2\n"
                                                                 "^\n"
                                                                 "f.yaml: warning: whole file\n");
  }

} // TEST_SUITE
