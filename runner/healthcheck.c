/* healthcheck.c — see healthcheck.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' }, { "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *port = NULL;
	char ubuf[64], err[256], msg[256];
	struct httpprobe_target t;
	int c;

	while ((c = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'p': port = optarg; break;
		case 'h': fputs(healthcheck_usage, stdout); return 0;
		default: fputs(healthcheck_usage, stderr); return 1;
		}
	}
	if (optind != argc || (url && port)) {
		fputs(healthcheck_usage, stderr);
		return 1;
	}
	if (port) {
		int p;
		if (httpprobe_parse_port(port, strlen(port), &p) != 0) {
			fprintf(stderr, "webhook-runner healthcheck: bad --port \"%s\"\n", port);
			return 1;
		}
		snprintf(ubuf, sizeof ubuf, "http://127.0.0.1:%d/healthz", p);
		url = ubuf;
	}
	if (!url)
		url = "http://127.0.0.1:8080/healthz";
	if (httpprobe_parse_url(url, "/healthz", &t, err, sizeof err) != 0) {
		fprintf(stderr, "webhook-runner healthcheck: %s: %s\n", url, err);
		return 1;
	}
	if (httpprobe_check(&t, "webhook-runner-healthcheck/" RUNNER_VERSION, HTTPPROBE_TIMEOUT_MS, msg, sizeof msg) != 0) {
		fprintf(stderr, "webhook-runner healthcheck: %s: %s\n", url, msg);
		return 1;
	}
	printf("healthy: %s\n", msg);
	return 0;
}
