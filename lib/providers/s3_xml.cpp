#include "providers/s3_xml.hpp"

#include <fmt/format.h>

#include <charconv>

namespace stove::providers::s3xml {

namespace {

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

bool name_ends(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

} // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out.append("&amp;"); break;
    case '<': out.append("&lt;"); break;
    case '>': out.append("&gt;"); break;
    case '"': out.append("&quot;"); break;
    case '\'': out.append("&apos;"); break;
    default: out.push_back(c);
    }
  }
  return out;
}

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out.push_back('&');
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (entity.size() > 1 && entity[0] == '#') {
      bool is_hex = entity[1] == 'x' || entity[1] == 'X';
      std::string_view digits = entity.substr(is_hex ? 2 : 1);
      uint32_t code = 0;
      auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), code, is_hex ? 16 : 10);
      if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
          code > 0x10FFFF) {
        out.push_back('&');
        continue;
      }
      append_utf8(out, code);
    } else {
      out.push_back('&');
      continue;
    }
    i = semi;
  }
  return out;
}

std::vector<std::string_view> elements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> found;
  const std::string open = fmt::format("<{}", name);
  const std::string close = fmt::format("</{}>", name);
  size_t at = 0;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    size_t after = at + open.size();
    if (after >= xml.size() || !name_ends(xml[after])) {
      at = after;
      continue;
    }
    size_t tag_end = xml.find('>', after);
    if (tag_end == std::string_view::npos) {
      break;
    }
    if (xml[tag_end - 1] == '/') {
      found.emplace_back();
      at = tag_end + 1;
      continue;
    }
    size_t end = xml.find(close, tag_end + 1);
    if (end == std::string_view::npos) {
      break;
    }
    found.push_back(xml.substr(tag_end + 1, end - tag_end - 1));
    at = end + close.size();
  }
  return found;
}

std::optional<std::string> text(std::string_view xml, std::string_view name) {
  auto all = elements(xml, name);
  if (all.empty()) {
    return std::nullopt;
  }
  return unescape(all.front());
}

std::optional<Error> parse_error(std::string_view xml) {
  auto error = elements(xml, "Error");
  if (error.empty()) {
    return std::nullopt;
  }
  Error e;
  e.code = text(error.front(), "Code").value_or("");
  e.message = text(error.front(), "Message").value_or("");
  e.region = text(error.front(), "Region").value_or("");
  e.endpoint = text(error.front(), "Endpoint").value_or("");
  if (e.code.empty()) {
    return std::nullopt;
  }
  return e;
}

std::string tagging_document(const std::map<std::string, std::string>& tags) {
  std::string set;
  for (const auto& [key, value] : tags) {
    set.append(fmt::format("<Tag><Key>{}</Key><Value>{}</Value></Tag>", escape(key), escape(value)));
  }
  return fmt::format("<Tagging xmlns=\"{}\"><TagSet>{}</TagSet></Tagging>", k_namespace, set);
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_tagging(std::string_view xml) {
  std::vector<std::pair<std::string, std::string>> tags;
  for (std::string_view tag : elements(xml, "Tag")) {
    auto key = text(tag, "Key");
    if (!key) {
      return std::nullopt;
    }
    tags.emplace_back(std::move(*key), text(tag, "Value").value_or(""));
  }
  return tags;
}

} // namespace stove::providers::s3xml
