#include "parse/scalar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace stove::detail {

namespace {

// Scalar text quoted in a message is cut to this many bytes.
constexpr size_t k_max_quoted = 60;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_octal_digit(char c) {
  return c >= '0' && c <= '7';
}
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

template <typename Predicate>
bool all_of(std::string_view text, Predicate predicate) {
  return !text.empty() && std::all_of(text.begin(), text.end(), predicate);
}

bool is_null_text(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

bool parse_bool_text(std::string_view text, bool& value) {
  if (text == "true" || text == "True" || text == "TRUE") {
    value = true;
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    value = false;
    return true;
  }
  return false;
}

// The digits of a core-schema integer and their base, or base 0 if `text` is
// not one. Decimal digits keep their sign, less a '+'.
struct IntegerForm {
  int base = 0;
  std::string_view digits;
};

IntegerForm integer_form(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && text[1] == 'o' &&
      all_of(text.substr(2), is_octal_digit)) {
    return {8, text.substr(2)};
  }
  if (text.size() > 2 && text[0] == '0' && text[1] == 'x' && all_of(text.substr(2), is_hex_digit)) {
    return {16, text.substr(2)};
  }
  const size_t sign = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  if (all_of(text.substr(sign), is_digit))
    return {10, text[0] == '+' ? text.substr(1) : text};
  return {};
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_float_text(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  const auto digits = [&] {
    const size_t start = i;
    while (i < n && is_digit(text[i]))
      ++i;
    return i - start;
  };
  if (i < n && (text[i] == '+' || text[i] == '-'))
    ++i;
  if (i < n && text[i] == '.') {
    ++i;
    if (digits() == 0)
      return false;
  } else {
    if (digits() == 0)
      return false;
    if (i < n && text[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-'))
      ++i;
    if (digits() == 0)
      return false;
  }
  return i == n;
}

// [-+]?\.(inf|Inf|INF) gives +-1; anything else 0.
int infinity_sign(std::string_view text) {
  int sign = 1;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    sign = text[0] == '-' ? -1 : 1;
    text.remove_prefix(1);
  }
  return text == ".inf" || text == ".Inf" || text == ".INF" ? sign : 0;
}

bool is_nan_text(std::string_view text) {
  return text == ".nan" || text == ".NaN" || text == ".NAN";
}

// For a float that from_chars found out of range: whether it is too large
// (rather than too small). Compares the decimal exponent of its first
// significant digit with zero.
bool float_overflows(std::string_view text) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-'))
    text.remove_prefix(1);
  const size_t e = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e);
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    const bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-'))
      digits.remove_prefix(1);
    for (char c : digits) {
      exponent = std::min(exponent * 10 + (c - '0'), 1'000'000'000LL);
    }
    if (negative)
      exponent = -exponent;
  }
  const size_t point = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, point);
  const size_t first = whole.find_first_not_of('0');
  if (first != std::string_view::npos) {
    return exponent + static_cast<long long>(whole.size() - first) - 1 > 0;
  }
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view{} : mantissa.substr(point + 1);
  const size_t significant = fraction.find_first_not_of('0');
  if (significant == std::string_view::npos)
    return false;
  return exponent - static_cast<long long>(significant) - 1 > 0;
}

// Scalar text shown bare in a message (numbers), cut if long.
std::string shortened(std::string_view text) {
  if (text.size() <= k_max_quoted)
    return std::string(text);
  // Not operator+: GCC 12 warns wrongly (-Warray-bounds) on the string copy.
  return fmt::format("{}...", text.substr(0, k_max_quoted));
}

void set_integer(Node& node, const IntegerForm& form, Diagnostics& diagnostics) {
  node.type = NodeType::integer;
  int64_t value = 0;
  const char* end = form.digits.data() + form.digits.size();
  const auto result = std::from_chars(form.digits.data(), end, value, form.base);
  if (result.ec != std::errc{} || result.ptr != end) {
    diagnostics.error(node.mark,
                      fmt::format("integer {} is out of range (integers must fit in 64 bits)",
                                  shortened(node.text)));
    value = 0;
  }
  node.value.integer = value;
}

void set_real(Node& node, Diagnostics& diagnostics) {
  node.type = NodeType::real;
  std::string_view text = node.text;
  if (text[0] == '+')
    text.remove_prefix(1); // from_chars takes no '+'
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    if (float_overflows(text)) {
      diagnostics.error(node.mark, fmt::format("number {} is out of range", shortened(node.text)));
    }
    // Too small: it rounds to zero.
    value = text[0] == '-' ? -0.0 : 0.0;
  } else if (result.ec != std::errc{} || !std::isfinite(value)) {
    diagnostics.error(node.mark, fmt::format("number {} is out of range", shortened(node.text)));
    value = 0;
  }
  node.value.real = value;
}


// Resolves by the core schema, restricted to type `want` unless it is
// Tag::none. False if the text is not of that type.
bool resolve_as(Node& node, Tag want, Diagnostics& diagnostics) {
  const std::string_view text = node.text;
  const bool any = want == Tag::none;
  if (any && !text.empty()) {
    // Most scalars are names: skip the checks when no type can match.
    const char c = text[0];
    if (!is_digit(c) && c != '~' && c != '.' && c != '+' && c != '-' && c != 'n' && c != 'N' &&
        c != 't' && c != 'T' && c != 'f' && c != 'F') {
      node.type = NodeType::string;
      return true;
    }
  }
  if ((any || want == Tag::null) && is_null_text(text)) {
    node.type = NodeType::null;
    return true;
  }
  if (any || want == Tag::boolean) {
    bool value = false;
    if (parse_bool_text(text, value)) {
      node.type = NodeType::boolean;
      node.value.boolean = value;
      return true;
    }
  }
  if (any || want == Tag::integer) {
    const IntegerForm form = integer_form(text);
    if (form.base != 0) {
      set_integer(node, form, diagnostics);
      return true;
    }
  }
  if (any || want == Tag::real) {
    if (const int sign = infinity_sign(text); sign != 0) {
      node.type = NodeType::real;
      node.value.real = sign * std::numeric_limits<double>::infinity();
      return true;
    }
    if (is_nan_text(text)) {
      node.type = NodeType::real;
      node.value.real = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    if (is_float_text(text)) {
      set_real(node, diagnostics);
      return true;
    }
  }
  if (any) {
    node.type = NodeType::string;
    return true;
  }
  return false;
}

} // namespace

std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  size_t i = 0;
  for (; i < text.size() && i < k_max_quoted; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20 || c == 0x7F) {
        out += fmt::format("\\x{:02X}", c);
      } else if (c == 0xC2 && i + 1 < text.size() &&
                 (static_cast<unsigned char>(text[i + 1]) & 0xE0) == 0x80) {
        // A C1 control character, U+0080 to U+009F.
        out += fmt::format("\\u{:04X}", static_cast<unsigned char>(text[++i]));
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  if (i < text.size()) {
    // Do not leave half a UTF-8 sequence before the ellipsis.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
      out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0)
      out.pop_back();
    out += "...";
  }
  out += '"';
  return out;
}

std::string display_tag(std::string_view tag) {
  if (tag.starts_with(k_core_tag_prefix)) {
    return "!!" + std::string(tag.substr(k_core_tag_prefix.size()));
  }
  return std::string(tag);
}

Tag classify_tag(std::string_view tag) {
  if (tag.empty())
    return Tag::none;
  if (tag == "!")
    return Tag::str; // the non-specific tag: a string for scalars
  if (!tag.starts_with(k_core_tag_prefix))
    return Tag::unsupported;
  const std::string_view name = tag.substr(k_core_tag_prefix.size());
  if (name == "str")
    return Tag::str;
  if (name == "null")
    return Tag::null;
  if (name == "bool")
    return Tag::boolean;
  if (name == "int")
    return Tag::integer;
  if (name == "float")
    return Tag::real;
  if (name == "seq")
    return Tag::seq;
  if (name == "map")
    return Tag::map;
  return Tag::unsupported;
}

void resolve_scalar(Node& node, Tag tag, std::string_view tag_text, Diagnostics& diagnostics) {
  switch (tag) {
  case Tag::none:
    resolve_as(node, Tag::none, diagnostics);
    return;
  case Tag::str:
    node.type = NodeType::string;
    return;
  case Tag::null:
  case Tag::boolean:
  case Tag::integer:
  case Tag::real:
    if (!resolve_as(node, tag, diagnostics)) {
      diagnostics.error(node.mark, fmt::format("{} is not a valid {}", in_quotes(node.text),
                                               display_tag(tag_text)));
      node.type = NodeType::string;
    }
    return;
  case Tag::seq:
  case Tag::map:
    diagnostics.error(node.mark, fmt::format("tag {} cannot be used on a scalar value",
                                             display_tag(tag_text)));
    node.type = NodeType::string;
    return;
  case Tag::unsupported:
    diagnostics.error(node.mark,
                      fmt::format("unsupported tag {}", in_quotes(display_tag(tag_text))));
    node.type = NodeType::string;
    return;
  }
}

} // namespace stove::detail
