/*
 * cli_approvals.c — the operator's approvals, the fallback when Slack is
 * down or not configured:
 *
 *   webhook-runner approvals list (--config FILE | --store PATH) [--hook H] [--json]
 *   webhook-runner approvals approve ID --as NAME --config FILE
 *   webhook-runner approvals deny ID --as NAME [--reason R] --config FILE
 *
 * ID is the approval id (32 hex digits) or the job's id (the number in the
 * 202's Location: /jobs/<id>). A vote goes through the same rules as a
 * Slack button (approval.h), recorded with source "cli" and voter NAME:
 * NAME must be one of the hook's listed approvers (unless the hook names
 * groups, whose members only Slack can tell: then the operator's access
 * to the config and store vouches), not the requester unless the hook
 * allows self-approval, once per approval. --config is required for a
 * vote, since the approvers are in it; the store is the config's.
 *
 * Works against a running daemon's store or a stopped one's. A job an
 * approval queues is run by the daemon's workers, which look at the queue
 * at least once a second; a stopped daemon runs it at its next start.
 * `list` prints the pending approvals (id, job, hook, key, votes, requester,
 * expiry), or one JSON object per line with --json.
 *
 * Exit status: 0 the vote counted (approved, denied, or recorded awaiting
 * more); 1 refused (the reason on stderr: unknown id, already decided,
 * expired, not an approver, self-approval, a second vote) or a store or
 * config failure; 2 bad arguments.
 */
#ifndef CLI_APPROVALS_H
#define CLI_APPROVALS_H
/* Entry point; ARGV[0] is "approvals". Returns the exit status. */
int cli_approvals_main(int argc, char **argv);
#endif
