#pragma once

// Error classes for the fault suite's reports: many errors that differ only in a node address, a
// slot number or a node id are counted as one kind.

#include <string>
#include <string_view>

namespace slotplane::faults {

// The kind of an error reply: its words with every word that holds a digit replaced by "#",
// at most 80 bytes. "MOVED 3999 127.0.0.1:6381" -> "MOVED # #";
// "ERR cluster node 127.0.0.1:44 is unreachable" -> "ERR cluster node # is unreachable".
std::string ErrorReplyKind(std::string_view message);

// The kind of a transport failure (hiredis errstr), prefixed "conn: ": a timeout is
// "conn: timeout" whatever the platform's wording, a peer that closed is "conn: closed".
std::string TransportErrorKind(std::string_view errstr);

}  // namespace slotplane::faults
