#include "http/transfer.hpp"

#include "http/text.hpp"

#include <algorithm>
#include <climits>
#include <new>

namespace stove::http::detail {

namespace {

using std::chrono::milliseconds;

long curl_ms(milliseconds d) {
  return static_cast<long>(std::clamp<milliseconds::rep>(d.count(), 1, LONG_MAX));
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  try {
    static_cast<Received*>(user)->body.append(data, size * count);
    return size * count;
  } catch (...) {
    return 0;  // libcurl fails the transfer with a write error
  }
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& headers = static_cast<Received*>(user)->headers;
  std::string_view line = trim(std::string_view(data, size * count));
  try {
    if (line.starts_with("HTTP/")) {
      // A new response begins (after a 100 Continue, say): only the last
      // one's headers count.
      headers.clear();
    } else if (!line.empty() && (data[0] == ' ' || data[0] == '\t') && !headers.empty()) {
      headers.back().second += fmt::format(" {}", line);  // obsolete line folding
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                           std::string(trim(line.substr(colon + 1))));
    }
    return size * count;
  } catch (...) {
    return 0;
  }
}

bool has_header(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return iequals(header.first, name); });
}

void set_method(CURL* handle, const Request& request) {
  const std::string& method = request.method;
  if (method == "HEAD") {
    set_option(handle, CURLOPT_NOBODY, 1L);
    return;
  }
  if (!request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    // POSTFIELDS sends the body with a Content-Length, whatever the method.
    set_option(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set_option(handle, CURLOPT_POSTFIELDS, request.body.c_str());
    if (method != "POST") {
      set_option(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    return;
  }
  if (method != "GET") {
    set_option(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

} // namespace

HeaderList header_list(const Request& request) {
  HeaderList list;
  auto append = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) {
      throw std::bad_alloc();
    }
    static_cast<void>(list.release());
    list.reset(grown);
  };
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument(fmt::format("invalid HTTP header \"{}\"", name));
    }
    // "Name;" is how libcurl sends a header with an empty value.
    append(value.empty() ? fmt::format("{};", name) : fmt::format("{}: {}", name, value));
  }
  // libcurl would announce large bodies with Expect: 100-continue and wait
  // a round trip for the server's go-ahead.
  if (!has_header(request.headers, "Expect")) {
    append("Expect:");
  }
  // libcurl would label a body without a type as a form; better no type
  // than a wrong one.
  if (!has_header(request.headers, "Content-Type")) {
    append("Content-Type:");
  }
  return list;
}

void prepare_transfer(CURL* handle, const Request& request, curl_slist* headers,
                      const AttemptLimits& limits, const std::string& user_agent, Received& into,
                      char* error) {
  set_option(handle, CURLOPT_URL, request.url.c_str());
  set_option(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  set_option(handle, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts in threads
  set_option(handle, CURLOPT_FOLLOWLOCATION, 0L);
  set_option(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  set_option(handle, CURLOPT_TIMEOUT_MS,
             limits.total == milliseconds::max() ? 0L : curl_ms(limits.total));
  set_option(handle, CURLOPT_CONNECTTIMEOUT_MS,
             limits.connect == milliseconds::max() ? 0L : curl_ms(limits.connect));
  set_option(handle, CURLOPT_USERAGENT, user_agent.c_str());
  set_option(handle, CURLOPT_HTTPHEADER, headers);
  set_option(handle, CURLOPT_ERRORBUFFER, error);
  set_option(handle, CURLOPT_WRITEFUNCTION, on_body);
  set_option(handle, CURLOPT_WRITEDATA, &into);
  set_option(handle, CURLOPT_HEADERFUNCTION, on_header);
  set_option(handle, CURLOPT_HEADERDATA, &into);
  set_method(handle, request);
}

} // namespace stove::http::detail
