#include "dataplane/local/cross_worker.h"

#include <memory>
#include <utility>

#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"

namespace slotplane::dataplane {
namespace {

// Lives until the last result arrives; touched on the origin's thread only.
struct Gather {
  std::vector<std::string> results;
  size_t remaining = 0;
  std::function<void(std::vector<std::string>)> done;
};

}  // namespace

void RunOnAllWorkers(WorkerContext* origin, std::function<std::string(WorkerContext&)> job,
                     std::function<void(std::vector<std::string>)> done) {
  const std::vector<WorkerContext*>& workers = origin->proxy().workers;
  auto gather = std::make_shared<Gather>();
  gather->results.resize(workers.size());
  gather->remaining = workers.size();
  gather->done = std::move(done);
  if (workers.empty()) {
    gather->done({});
    return;
  }
  for (size_t i = 0; i < workers.size(); ++i) {
    WorkerContext* target = workers[i];
    target->loop().Post([target, origin, i, job, gather] {
      std::string result = job(*target);
      origin->loop().Post([i, gather, result = std::move(result)]() mutable {
        gather->results[i] = std::move(result);
        if (--gather->remaining == 0) gather->done(std::move(gather->results));
      });
    });
  }
}

}  // namespace slotplane::dataplane
