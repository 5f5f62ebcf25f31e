#include "sandbox/connections.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <dirent.h>
#include <functional>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>

namespace stove::sandbox {

namespace {

std::string address_text(const sockaddr_storage& address, int* port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    *port = ntohs(v4->sin_port);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    *port = ntohs(v6->sin6_port);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
  } else {
    *port = -1;
  }
  return text;
}

struct Endpoint {
  std::string address;
  int port = -1;
};

// Calls `visit` with every connected socket of the process and its two
// ends, until it returns true; false if /proc/self/fd cannot be read.
// cpp-httplib never hands its sockets to handlers, so they are found among
// the process's descriptors by their ends, which identify a TCP
// connection.
bool for_each_connected_socket(
    const std::function<bool(int sock, const Endpoint& local, const Endpoint& peer)>& visit) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return false;
  }
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir)) {
      continue;
    }
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_size = sizeof local;
    socklen_t peer_size = sizeof peer;
    auto sock = static_cast<int>(fd);
    if (::getsockname(sock, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 ||
        ::getpeername(sock, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) {
      continue;
    }
    Endpoint local_end;
    Endpoint peer_end;
    local_end.address = address_text(local, &local_end.port);
    peer_end.address = address_text(peer, &peer_end.port);
    if (visit(sock, local_end, peer_end)) {
      break;
    }
  }
  ::closedir(dir);
  return true;
}

// The socket of the connection `request` came on, or -1.
int connection_socket(const httplib::Request& request) {
  int found = -1;
  for_each_connected_socket([&](int sock, const Endpoint& local, const Endpoint& peer) {
    if (local.port == request.local_port && peer.port == request.remote_port &&
        local.address == request.local_addr && peer.address == request.remote_addr) {
      found = sock;
      return true;
    }
    return false;
  });
  return found;
}

} // namespace

void end_idle_connections(int port) {
  for_each_connected_socket([&](int sock, const Endpoint& local, const Endpoint&) {
    if (local.port == port) {
      ::shutdown(sock, SHUT_RD);
    }
    return false;
  });
}

// Drops the connection without a response: the client sees it closed
// before a single byte came back (curl: "Empty reply from server"), as
// when a proxy or the network fails. Shutting the socket down, rather than
// closing it, leaves the descriptor to cpp-httplib, whose writes then fail
// and which closes it.
void drop_connection(const httplib::Request& request, httplib::Response& response) {
  int sock = connection_socket(request);
  if (sock >= 0) {
    ::shutdown(sock, SHUT_RDWR);
    return;
  }
  // Without /proc: promise a body and send none, which cuts the response
  // after its headers; clients fail with a transport error all the same.
  response.set_content_provider(1, "application/json",
                                [](size_t, size_t, httplib::DataSink&) { return false; });
}

} // namespace stove::sandbox
