/* healthcheck.c — see healthcheck.h. */
#include "../common/httpprobe.h"
#include "healthcheck.h"
#include "version.h"

static const char healthcheck_usage[] =
"usage: webhook-runner healthcheck [--url URL | --port PORT]\n"
"  GET /healthz of the daemon (default http://127.0.0.1:8080/healthz) within 3 s;\n"
"  exit 0 when it answers 200, else 1 with the reason on stderr.\n"
"  --url URL    http[s]://HOST[:PORT][/PATH]; HOST an IP address or localhost\n"
"               (https: the certificate is not verified; the probe sends no secret)\n"
"  --port PORT  http://127.0.0.1:PORT/healthz\n";

int healthcheck_main(int argc, char **argv)
{
	static const struct httpprobe_cli cli = {
		"webhook-runner healthcheck", healthcheck_usage, "/healthz", 8080, "webhook-runner-healthcheck/" RUNNER_VERSION,
	};

	return httpprobe_main(&cli, argc, argv);
}
