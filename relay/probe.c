/* probe.c — see probe.h. */
#include "../common/httpprobe.h"
#include "probe.h"

static const char probe_usage[] =
"usage: webhook-relay healthcheck [--url URL | --port PORT]\n"
"  GET /live of the relay's ops listener (default http://127.0.0.1:9000/live)\n"
"  within 3 s; exit 0 when it answers 200, else 1 with the reason on stderr.\n"
"  --url URL    http[s]://HOST[:PORT][/PATH]; HOST an IP address or localhost\n"
"  --port PORT  http://127.0.0.1:PORT/live (the --ops-port)\n";

int probe_main(int argc, char **argv)
{
	static const struct httpprobe_cli cli = {
		"webhook-relay healthcheck", probe_usage, "/live", 9000, "webhook-relay-healthcheck",
	};

	return httpprobe_main(&cli, argc, argv);
}
