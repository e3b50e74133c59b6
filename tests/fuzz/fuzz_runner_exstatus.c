/*
 * fuzz_runner_exstatus.c — libFuzzer harness for the runner's reading of an
 * executor status line (runner/exec.c: exec_parse_status) and what the
 * outcome table makes of it (exec_outcome). The line comes from a spawned
 * executor's fd 3, or, with executor.socket, from the service's final frame
 * (runner/xclient.c), so it crosses a process boundary either way.
 *
 * The input is the line (up to the first NUL). Oracles, beyond crashes,
 * leaks and undefined behaviour: has_status is set exactly when cJSON (an
 * independent parse) reads a JSON object; every text field is
 * NUL-terminated within its buffer; an exit status is 0..255; the answer is
 * one of 200/500/502/503/504; 200 "succeeded" only for a status with no
 * error and exit 0; a Retry-After only with 503. Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../runner/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exec_result r;
	const char *state = NULL;
	char *line = malloc(size + 1);
	cJSON *o;
	int http = 0, ra = -1, is_obj;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&r, 0, sizeof r);
	exec_parse_status(line, &r);
	o = cJSON_Parse(line);
	is_obj = cJSON_IsObject(o);
	cJSON_Delete(o);
	if (r.has_status != is_obj)
		abort();
	if (!TERMINATED(r.phase) || !TERMINATED(r.error) || !TERMINATED(r.message) ||
	    !TERMINATED(r.signal) || !TERMINATED(r.hostkey))
		abort();
	if (r.has_exit && (r.exit_code < 0 || r.exit_code > 255))
		abort();
	exec_outcome(&r, &http, &state, &ra);
	if (http != 200 && http != 500 && http != 502 && http != 503 && http != 504)
		abort();
	if (!state || (http == 200) != !strcmp(state, "succeeded"))
		abort();
	if (http == 200 && (!r.has_status || r.error[0] || !r.has_exit || r.exit_code != 0))
		abort();
	if ((ra != 0) != (http == 503))
		abort();
	free(line);
	return 0;
}
