#pragma once

#include <functional>
#include <string>
#include <vector>

namespace slotplane::dataplane {

class WorkerContext;

// Runs `job` on every worker's own thread, through each worker's task queue, and then hands the
// results, in worker order, to `done` on `origin`'s thread. This is how a command about the whole
// proxy (CLIENT LIST, CLIENT KILL) reads or changes other workers' clients without a lock and
// without any worker ever waiting for another: each job sees a consistent snapshot of its own
// worker. `job` is copied to every worker thread: it must capture values only. If a worker stops
// before running its job (proxy shutdown), `done` never runs.
void RunOnAllWorkers(WorkerContext* origin, std::function<std::string(WorkerContext&)> job,
                     std::function<void(std::vector<std::string>)> done);

}  // namespace slotplane::dataplane
