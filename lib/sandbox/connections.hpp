#pragma once

// The connections cpp-httplib serves, reached from outside it: cpp-httplib
// never hands its sockets to handlers, so they are found among the
// process's descriptors by their ends (in /proc/self/fd).

#include <httplib.h>

namespace stove::sandbox {

// Ends the keep-alive waits of the connections accepted on `port`: each
// worker thread waits up to the keep-alive timeout for a connection's next
// request and only then sees the server has stopped. Shutting down the
// reading side wakes it at once, while a response being written still goes
// out whole.
void end_idle_connections(int port);

// Drops the connection without a response: the client sees it closed
// before a single byte came back (curl: "Empty reply from server"), as
// when a proxy or the network fails. Shutting the socket down, rather than
// closing it, leaves the descriptor to cpp-httplib, whose writes then fail
// and which closes it.
void drop_connection(const httplib::Request& request, httplib::Response& response);

} // namespace stove::sandbox
