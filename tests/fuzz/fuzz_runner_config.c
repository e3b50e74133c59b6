/*
 * fuzz_runner_config.c — libFuzzer harness for runner/config.c (with
 * hookcfg.c and cfgfield.c).
 *
 * The input is a whole configuration file. It is written to a memfd and
 * loaded through /proc/self/fd/N, so config_load reads it exactly as it
 * reads a file (size cap, JSON parse, every field check, secret references,
 * template compilation); whatever it returns is freed, so leaks show under
 * LeakSanitizer. Oracle: success means a usable config (hooks present and
 * findable by id) and the error slot empty of garbage; failure means no
 * config and a one-line message.
 *
 * Secret references in inputs resolve against this process (env:, file:,
 * cred:); which of them exist is irrelevant. stdin is /dev/null so that
 * "file:/dev/stdin" cannot block a replay.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../runner/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct config *cfg = NULL;
	char path[64], err[1024];
	size_t off = 0, i;
	int fd, rc;

	if (!init) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0 && nul != 0) {
			dup2(nul, 0);
			close(nul);
		}
		init = 1;
	}
	if (size > (2u << 20))
		return 0;
	fd = memfd_create("fuzz_runner_config", MFD_CLOEXEC);
	CHECK(fd >= 0);
	while (off < size) {
		ssize_t k = write(fd, data + off, size - off);
		CHECK(k > 0 || (k < 0 && errno == EINTR));
		if (k > 0)
			off += (size_t)k;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(err, 0, sizeof err);
	rc = config_load(path, &cfg, err, sizeof err);
	if (rc == 0) {
		CHECK(cfg && cfg->nhooks >= 1 && cfg->executor_path && cfg->store_path);
		for (i = 0; i < cfg->nhooks; i++)
			CHECK(config_hook(cfg, cfg->hooks[i].id) == &cfg->hooks[i]);
	} else {
		CHECK(rc < 0 && cfg == NULL);
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	}
	config_free(cfg);
	close(fd);
	return 0;
}
