// gatelab serve CONFIG: run the config as a live reverse proxy (gateway/proxy) until SIGINT/SIGTERM.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>

#include "cli/commands.hpp"
#include "gateway/config/loader.hpp"
#include "gateway/config/runtime.hpp"
#include "gateway/proxy/server.hpp"

namespace gatelab::cli {

int runServe(const ServeOptions& options) {
  config::LoadResult loaded = config::loadConfigFile(options.config);
  if (!loaded.ok()) {
    std::cerr << loaded.errorText() << options.config << ": invalid, not serving\n";
    return 1;
  }
  proxy::ServerOptions so;
  so.adminHost = loaded.config->admin.host;
  so.adminPort = loaded.config->admin.port;
  so.listenHost = loaded.config->listen.host;
  so.listenPort = loaded.config->listen.port;
  if (!options.listen.empty()) {
    auto hp = config::parseHostPort(options.listen);
    if (!hp.ok()) {
      std::cerr << "gatelab serve: --listen " << options.listen << ": " << hp.error().message << " (allowed: "
                << hp.error().allowed << ")\n";
      return 2;
    }
    so.listenHost = hp.value().host;
    so.listenPort = hp.value().port;
  } else {
    so.alsoListen = loaded.config->alsoListen;
  }
  so.threads = options.threads != 0 ? options.threads : loaded.config->threads;
  so.configLoader = [path = options.config] { return config::loadConfigFile(path); };
  so.accessLog = options.accessLog;
  so.maxConnections = options.maxConnections;

  // The signals are taken by this thread with sigwait; block them before any I/O thread starts so
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  proxy::Server server(loaded.config, so);
  if (const std::string err = server.start(); !err.empty()) {
    std::cerr << "gatelab serve: " << err << (err.back() == '\n' ? "" : "\n");
    return 1;
  }
  std::cerr << "gatelab: serving " << options.config << " on " << so.listenHost << ':' << server.port();
  const std::vector<std::uint16_t> alsoPorts = server.alsoPorts();
  for (std::size_t i = 0; i < so.alsoListen.size() && i < alsoPorts.size(); ++i)
    std::cerr << " and " << so.alsoListen[i].host << ':' << alsoPorts[i];
  if (loaded.config->tls) std::cerr << ", TLS on " << loaded.config->tls->listen.host << ':' << server.tlsPort();
  if (loaded.config->redis) std::cerr << ", rate-limit store redis " << loaded.config->redis->address.toString();
  std::cerr << ", admin on " << so.adminHost << ':' << server.adminPort() << " (/metrics /healthz /readyz)\n";
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      config::LoadResult next = config::loadConfigFile(options.config);
      if (!next.ok()) {
        std::cerr << next.errorText() << "gatelab: SIGHUP: " << options.config
                  << " is invalid; the running config keeps serving\n";
        continue;
      }
      const proxy::Server::ReloadResult r = server.reload(next.config);
      std::cerr << "gatelab: SIGHUP: " << r.message << (r.message.ends_with('\n') ? "" : "\n");
      continue;
    }
    std::cerr << "gatelab: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ": draining (up to "
              << options.drainTimeoutSeconds << "s)\n";
    break;
  }
  const bool drained = server.drain(std::chrono::milliseconds(static_cast<std::int64_t>(options.drainTimeoutSeconds * 1000)));
  std::cerr << (drained ? "gatelab: drained, stopped\n" : "gatelab: drain deadline passed; cut the remaining connections\n");
  return 0;
}

}  // namespace gatelab::cli
