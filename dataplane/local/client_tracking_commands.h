#pragma once

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;
struct ClientCommand;

// CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP],
// CLIENT CACHING yes|no, CLIENT GETREDIR and CLIENT TRACKINGINFO, with Redis 7.0's checks, error
// texts and replies (networking.c). The tracking itself is stateful/client_tracking.h. A REDIRECT
// target may be a client of any worker: its existence is checked on every worker (cross_worker.h)
// before anything after it in the arguments, as Redis checks it while parsing. Worker thread.
void ExecuteTrackingCommand(WorkerContext* worker, ClientSession* client,
                            const ClientCommand& command);

}  // namespace slotplane::dataplane
