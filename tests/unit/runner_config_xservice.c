/*
 * runner_config_xservice.c — unit tests of the configuration for running
 * jobs through the remote-executor service (runner/config.c and
 * runner/hookcfg.c through config_load): executor.socket, and a hook's
 * identity_name and reuse. With a socket the hook names an identity and
 * holds no key path, passphrase or known_hosts; without one, the service's
 * fields are refused. Every refusal is checked by the exact beginning of
 * its message, which names the field. Fixtures in cfgtest.h.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include "cfgtest.h"

#define SOCK "'executor': {'socket': 'exec.sock'}"
#define SJOB(extra) "'job': {'destination': 'deploy@host', 'identity_name': 'deploy', " \
	"'command': 'echo hi'" extra "}"
#define SHOOK(extra) "{'id': 'h', " SIG ", " SJOB(extra) "}"

static void test_socket_loads(void)
{
	struct config *c = NULL;
	char err[512], want[PATH_MAX + 16];
	int rc = load("{" SOCK ", 'hooks': [" SHOOK("") ", {'id': 'h2', " SIG ", "
	    SJOB(", 'reuse': false") "}]}", &c, err, sizeof err);

	T_EQ_INT(rc, 0);
	if (rc == 0) {
		snprintf(want, sizeof want, "%s/exec.sock", g_real);
		T_STR(c->executor_socket, want);
		T_CHECK(c->executor_path == NULL);
		T_STR(c->hooks[0].identity_name, "deploy");
		T_CHECK(c->hooks[0].identity == NULL);
		T_CHECK(c->hooks[0].known_hosts == NULL);
		T_EQ_INT(c->hooks[0].reuse, 1); /* the default */
		T_EQ_INT(c->hooks[1].reuse, 0);
		T_CHECK(has_warning(c, "executor.socket: "));
		T_CHECK(has_warning(c, "is not a socket now (is remote-executor serve running?)"));
	}
	config_free(c);
}

/* A socket that is there: no warning. */
static void test_socket_present(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct config *c = NULL;
	char err[512];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	snprintf(a.sun_path, sizeof a.sun_path, "%s/exec.sock", g_dir);
	T_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
	rc = load("{" SOCK ", 'hooks': [" SHOOK("") "]}", &c, err, sizeof err);
	T_EQ_INT(rc, 0);
	T_CHECK(c && !has_warning(c, "executor.socket"));
	config_free(c);
	if (fd >= 0)
		close(fd);
	unlink(a.sun_path);
}

static void test_spawn_unchanged(void)
{
	struct config *c = NULL;
	char err[512];
	int rc = load(MINIMAL, &c, err, sizeof err);

	T_EQ_INT(rc, 0);
	if (rc == 0) {
		T_CHECK(c->executor_socket == NULL);
		T_STR(c->executor_path, "/bin/true");
		T_CHECK(c->hooks[0].identity_name == NULL);
		T_CHECK(c->hooks[0].identity != NULL);
	}
	config_free(c);
}

static void test_socket_refusals(void)
{
	char long_name[160];

	T_REFUSED("{'executor': {'path': '/bin/true', 'socket': 'exec.sock'}, 'hooks': [" SHOOK("") "]}",
	    "executor.socket: excludes \"path\": with a socket the service runs every job");
	T_REFUSED("{'executor': {'socket': 42}, 'hooks': [" SHOOK("") "]}",
	    "executor: \"socket\" must be a non-empty string");
	T_REFUSED("{'executor': {'socket': ''}, 'hooks': [" SHOOK("") "]}",
	    "executor: \"socket\" must be a non-empty string");
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	T_REFUSEDF("executor.socket: ", "{'executor': {'socket': '/run/%s'}, 'hooks': [" SHOOK("") "]}",
	    long_name);
	T_REFUSED("{'executor': {'socket': 'exec.sock', 'sockets': 'x'}, 'hooks': [" SHOOK("") "]}",
	    "executor: unknown field \"sockets\"");
}

static void test_service_hook_refusals(void)
{
	T_REFUSED("{" SOCK ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'command': 'echo hi'}}]}", "hooks[0].job: missing required field \"identity_name\"");
	/* A key path, a passphrase or known_hosts stays with the service. */
	T_REFUSED("{" SOCK ", 'hooks': [" SHOOK(", 'identity': 'id_ed25519'") "]}",
	    "hooks[0].job.identity: executor.socket is set: the remote-executor service holds keys");
	T_REFUSED("{" SOCK ", 'hooks': [" SHOOK(", 'known_hosts': 'known_hosts'") "]}",
	    "hooks[0].job.known_hosts: executor.socket is set");
	T_REFUSED("{" SOCK ", 'hooks': [" SHOOK(", 'passphrase': 'file:@D/s1'") "]}",
	    "hooks[0].job.passphrase: executor.socket is set");
	T_REFUSED("{" SOCK ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'identity_name': '/etc/keys/id', 'command': 'echo hi'}}]}",
	    "hooks[0].job.identity_name: may only hold letters, digits, '-', '_' and '.'");
	T_REFUSED("{" SOCK ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'identity_name': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', "
	    "'command': 'echo hi'}}]}", "hooks[0].job.identity_name: is longer than 64 characters");
	T_REFUSED("{" SOCK ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'identity_name': '', 'command': 'echo hi'}}]}",
	    "hooks[0].job: \"identity_name\" must be a non-empty string");
	T_REFUSED("{" SOCK ", 'hooks': [" SHOOK(", 'reuse': 'no'") "]}",
	    "hooks[0].job: \"reuse\" must be true or false");
	/* The rest of the job is checked as in spawn mode. */
	T_REFUSED("{" SOCK ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'host', "
	    "'identity_name': 'deploy', 'command': 'echo hi'}}]}",
	    "hooks[0].job.destination: must be user@host or user@host:port");
	T_REFUSED("{" SOCK ", 'hooks': [" SHOOK(", 'timeout_s': 0") "]}",
	    "hooks[0].job: \"timeout_s\" must be between 1 and 86400");
}

static void test_spawn_hook_refusals(void)
{
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'identity': 'id_ed25519', 'known_hosts': 'known_hosts', 'identity_name': 'deploy', "
	    "'command': 'echo hi'}}]}",
	    "hooks[0].job.identity_name: applies only with executor.socket");
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'identity': 'id_ed25519', 'known_hosts': 'known_hosts', 'reuse': true, "
	    "'command': 'echo hi'}}]}", "hooks[0].job.reuse: applies only with executor.socket");
	/* A name alone, without a socket, is no key path: refused as before. */
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", 'job': {'destination': 'deploy@host', "
	    "'identity_name': 'deploy', 'command': 'echo hi'}}]}",
	    "hooks[0].job.identity_name: applies only with executor.socket");
}

int main(void)
{
	if (cfgtest_setup("wr-cfgx", 0) != 0)
		return 1;
	T_RUN(test_socket_loads);
	T_RUN(test_socket_present);
	T_RUN(test_spawn_unchanged);
	T_RUN(test_socket_refusals);
	T_RUN(test_service_hook_refusals);
	T_RUN(test_spawn_hook_refusals);
	cfgtest_cleanup();
	return T_EXIT();
}
