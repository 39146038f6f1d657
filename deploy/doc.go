// Package deploy holds govbus's deployment and operations assets, which are
// not Go code: the demo configuration (demo/), docker compose (compose/),
// Prometheus scrape configuration, recording rules and alerts (prometheus/)
// and the Grafana dashboard with its provisioning (grafana/). Its tests
// check them with promtool and against the metric names govbus exports.
package deploy
