// Command genenv writes the compose stack's env file (services/.env): every
// variable the stack needs, random secrets for the missing ones, existing
// values kept; and, for a host-network deployment on other WEIR_PORT_*
// values, its own Prometheus configuration (PROMETHEUS_HOST_CONFIG).
// `make services_env` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"weir/services"
)

func main() {
	out := flag.String("out", "services/.env", "env file to create or complete")
	flag.Parse()
	changed, err := services.EnsureEnvFile(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genenv:", err)
		os.Exit(1)
	}
	if len(changed) == 0 {
		fmt.Printf("%s is complete\n", *out)
	} else {
		// Names only: the values are secrets.
		fmt.Printf("%s: wrote %s\n", *out, strings.Join(changed, ", "))
	}
	prom, err := services.EnsureHostPrometheusConfig(*out, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genenv:", err)
		os.Exit(1)
	}
	if prom != "" {
		fmt.Printf("%s: Prometheus configuration for this deployment's WEIR_PORT_* (PROMETHEUS_HOST_CONFIG)\n", prom)
	}
}
