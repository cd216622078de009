// How long a service's Fastify plugins may take to load before the service gives up starting.
// Fastify's default is 10 s. In a fault run on a saturated two-core box (load average ~40) a
// restarted gateway failed that way on every restart for three minutes: its routes and the
// connector modules' do their start-up work inside plugins, under that load it took longer
// than 10 s, and the supervisor's restarts hit the same limit again and again. A service that
// is merely slow should come up late, not crash-loop; one whose plugin really hangs still
// stops, with "Plugin did not start in time" naming the plugin. /readyz says when a service is
// up either way.
export const PLUGIN_TIMEOUT_MS = 120_000;
