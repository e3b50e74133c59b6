/*
 * replay.c — runs a libFuzzer harness as a plain program over a corpus
 * directory (or files), so that `make test` replays every seed and every past
 * crash under the normal and the sanitizer build. Prints one "ok" line per
 * corpus for tests/run.sh; a crash or sanitizer report fails the program.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int rc = -1;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if (!(buf = malloc(n ? (size_t)n : 1)))
		goto out;
	if (n && fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	int i, count = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			printf("FAIL replay %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			char p[4096];
			if (!d)
				return 1;
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
				if (replay_file(p) == 0)
					count++;
				else
					bad++;
			}
			closedir(d);
		} else if (replay_file(argv[i]) == 0) {
			count++;
		} else {
			bad++;
		}
	}
	if (bad || count == 0) {
		printf("FAIL replay: %d inputs replayed, %d unreadable\n", count, bad);
		return 1;
	}
	printf("ok replay (%d inputs)\n", count);
	return 0;
}
