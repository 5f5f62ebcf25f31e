#pragma once

// The little XML S3 speaks, by string scanning: the adapter reads replies
// with it and the sandbox reads request bodies. Enough for S3's flat
// documents (no CDATA, comments or namespaces prefixes on the elements
// wanted); not a general XML parser.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stove::providers::s3xml {

// Escapes & < > " ' for text and attribute values.
std::string escape(std::string_view text);
// Resolves the five predefined entities and &#N; / &#xN; references.
std::string unescape(std::string_view text);

// The raw contents of every element named `name` directly or deeply inside
// `xml`, in order: `<Name attr="...">inner</Name>` gives "inner", `<Name/>`
// gives "". Elements of other names that merely start with `name` (Buckets
// for Bucket) are skipped.
std::vector<std::string_view> elements(std::string_view xml, std::string_view name);
// The unescaped text of the first such element, or nullopt.
std::optional<std::string> text(std::string_view xml, std::string_view name);

// The error document S3 answers with: <Error><Code>..</Code><Message>..</Message>
// ..</Error>, with the elements that say where a bucket is: <Region> (in
// AuthorizationHeaderMalformed: the region the request should have been
// signed for) and <Endpoint> (in PermanentRedirect: where to send it).
struct Error {
  std::string code;
  std::string message;
  std::string region;    // "" when absent
  std::string endpoint;  // "" when absent
};
std::optional<Error> parse_error(std::string_view xml);

// <Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>
std::string tagging_document(const std::map<std::string, std::string>& tags);
// The tags of a Tagging document, in document order (duplicates kept), or
// nullopt when a Tag lacks its Key.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_tagging(std::string_view xml);

inline constexpr std::string_view k_namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

} // namespace stove::providers::s3xml
