/* probe.c — see probe.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' }, { "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *port = NULL;
	char ubuf[64], err[256], msg[256];
	struct httpprobe_target t;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'p': port = optarg; break;
		case 'h': fputs(probe_usage, stdout); return 0;
		default: fputs(probe_usage, stderr); return 1;
		}
	}
	if (optind != argc || (url && port)) {
		fputs(probe_usage, stderr);
		return 1;
	}
	if (port) {
		int p;
		if (httpprobe_parse_port(port, strlen(port), &p) != 0) {
			fprintf(stderr, "webhook-relay healthcheck: bad --port \"%s\"\n", port);
			return 1;
		}
		snprintf(ubuf, sizeof ubuf, "http://127.0.0.1:%d/live", p);
		url = ubuf;
	}
	if (!url)
		url = "http://127.0.0.1:9000/live";
	if (httpprobe_parse_url(url, "/live", &t, err, sizeof err) != 0) {
		fprintf(stderr, "webhook-relay healthcheck: %s: %s\n", url, err);
		return 1;
	}
	if (httpprobe_check(&t, "webhook-relay-healthcheck", HTTPPROBE_TIMEOUT_MS, msg, sizeof msg) != 0) {
		fprintf(stderr, "webhook-relay healthcheck: %s: %s\n", url, msg);
		return 1;
	}
	printf("healthy: %s\n", msg);
	return 0;
}
