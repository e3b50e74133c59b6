#!/usr/bin/env python3
"""k8s_check.py DIR OUT : the static checks of the manifests in DIR/*.yaml
(tests/e2e/deploy_k8s.sh runs it, then starts the real programs with what it
wrote to OUT). Prints ok NAME / FAIL NAME: why lines, and writes:
  OUT/runner-config.json     the runner's config.json, from its ConfigMap
  OUT/executor.json          the executor service's, from its ConfigMap
  OUT/facts                  one fact a line, for the shell:
      probe CONTAINER KIND PATH PORT   (KIND readiness|liveness)
      env CONTAINER NAME VALUE
      cred CONTAINER NAME              (a cred:NAME the container's config uses)
Containers are named DEPLOYMENT/CONTAINER.
Only python3-yaml: no cluster, no kubectl."""
import json
import os
import sys
import urllib.parse

import yaml

# Every kind here is a core one, with the apiVersion it has had since 1.21.
KINDS = {
    ('v1', 'ConfigMap'), ('v1', 'Secret'), ('v1', 'Service'), ('v1', 'PersistentVolumeClaim'),
    ('apps/v1', 'Deployment'), ('policy/v1', 'PodDisruptionBudget'),
}
results = []


def check(name, cond, why):
    results.append((name, bool(cond), why))


def mounts_of(c):
    return {m['mountPath']: m for m in c.get('volumeMounts', [])}


def resolve(pod, c, path):
    """The volume and key that PATH inside container C comes from, or None."""
    vols = {v['name']: v for v in pod.get('volumes', [])}
    best = None
    for mp, m in mounts_of(c).items():
        if path == mp or path.startswith(mp.rstrip('/') + '/'):
            if best is None or len(mp) > len(best[0]):
                best = (mp, m)
    if not best:
        return None
    mp, m = best
    v = vols.get(m['name'])
    if v is None:
        return None
    rest = m.get('subPath') or path[len(mp):].lstrip('/')
    return v, rest


def volume_has(v, key, configmaps):
    """Does volume V provide file KEY? A Secret only through its items (so the
    manifest names every key it needs); a ConfigMap through its data."""
    if 'secret' in v:
        return any(i['path'] == key for i in v['secret'].get('items', []))
    if 'configMap' in v:
        items = v['configMap'].get('items')
        if items:
            return any(i['path'] == key for i in items)
        return key in configmaps.get(v['configMap']['name'], {})
    return False


def port_of(c, p):
    """A probe's or Service's port as a number in container C, or None."""
    for cp in c.get('ports', []):
        if p == cp['containerPort'] or p == cp.get('name'):
            return cp['containerPort']
    return None


def main(d, out):
    docs = []
    for f in sorted(os.listdir(d)):
        if not f.endswith('.yaml'):
            continue
        try:
            with open(os.path.join(d, f), encoding='utf-8') as fh:
                for doc in yaml.safe_load_all(fh):
                    if doc is not None:
                        docs.append((f, doc))
            check('yaml_parses_' + f[:-5], True, '')
        except yaml.YAMLError as e:
            check('yaml_parses_' + f[:-5], False, str(e)[:300])
    bad = [f'{f}: {doc.get("apiVersion")} {doc.get("kind")}' for f, doc in docs
           if (doc.get('apiVersion'), doc.get('kind')) not in KINDS]
    check('kinds_are_core', docs and not bad, 'not core: ' + ', '.join(bad) if bad else 'no documents')
    noname = [f for f, doc in docs if not doc.get('metadata', {}).get('name')]
    check('every_object_named', not noname, 'unnamed in ' + ', '.join(noname))
    names = [(doc['kind'], doc['metadata']['name']) for _, doc in docs if doc.get('metadata', {}).get('name')]
    check('names_unique', len(names) == len(set(names)), f'{len(names)} names, {len(set(names))} distinct')
    configmaps = {doc['metadata']['name']: doc.get('data', {}) for _, doc in docs if doc.get('kind') == 'ConfigMap'}
    secrets = [doc['metadata']['name'] for _, doc in docs if doc.get('kind') == 'Secret']
    check('no_secret_objects', not secrets, 'secret values do not belong in the repository: ' + ', '.join(secrets))
    deps = {doc['metadata']['name']: doc for _, doc in docs if doc.get('kind') == 'Deployment'}
    check('deployments_present', set(deps) == {'webhook-runner', 'webhook-relay', 'webhook-relay-connect'},
          f'deployments: {sorted(deps)}')
    facts = []

    # ---------------------------------------------------------- every Deployment
    for dn, dep in deps.items():
        spec = dep['spec']
        pod = spec['template']['spec']
        labels = spec['template']['metadata'].get('labels', {})
        sel = spec['selector'].get('matchLabels', {})
        check(f'{dn}_selector_matches', sel and all(labels.get(k) == v for k, v in sel.items()),
              f'selector {sel}, labels {labels}')
        psc = pod.get('securityContext', {})
        vols = {v['name'] for v in pod.get('volumes', [])}
        for c in pod['containers']:
            cn = f'{dn}/{c["name"]}'
            sc = c.get('securityContext', {})
            uid = sc.get('runAsUser', psc.get('runAsUser'))
            check(f'{cn}_non_root', (sc.get('runAsNonRoot', psc.get('runAsNonRoot')) is True) and
                  isinstance(uid, int) and uid > 0, f'runAsNonRoot/runAsUser: {sc} {psc}')
            check(f'{cn}_read_only_root', sc.get('readOnlyRootFilesystem') is True, f'{sc}')
            check(f'{cn}_no_privilege_escalation', sc.get('allowPrivilegeEscalation') is False and
                  sc.get('capabilities', {}).get('drop') == ['ALL'], f'{sc}')
            r = c.get('resources', {})
            check(f'{cn}_resources', all(r.get(a, {}).get(b) for a in ('requests', 'limits')
                                         for b in ('cpu', 'memory')), f'{r}')
            missing = [m['name'] for m in c.get('volumeMounts', []) if m['name'] not in vols]
            check(f'{cn}_mounts_known_volumes', not missing, f'no volume {missing}')
            for kind in ('readinessProbe', 'livenessProbe'):
                p = c.get(kind)
                if not p:
                    continue
                hg = p.get('httpGet', {})
                port = port_of(c, hg.get('port'))
                check(f'{cn}_{kind}_port_declared', port is not None,
                      f'{kind} port {hg.get("port")} is no containerPort')
                if port is not None and hg.get('path'):
                    facts.append(f'probe {cn} {kind[:-5]} {hg["path"]} {port}')
            for e in c.get('env', []):
                if 'value' in e:
                    facts.append(f'env {cn} {e["name"]} {e["value"]}')
            # A file: reference in the environment is a file of a mounted volume.
            for e in c.get('env', []):
                v = e.get('value', '')
                if v.startswith('file:'):
                    r2 = resolve(pod, c, v[5:])
                    check(f'{cn}_{e["name"]}_file_mounted', r2 and volume_has(r2[0], r2[1], configmaps),
                          f'{v} is not a file of a volume mounted in {cn}')

    # ---------------------------------------------------------- Services
    for _, svc in docs:
        if svc.get('kind') != 'Service':
            continue
        sn = svc['metadata']['name']
        sel = svc['spec'].get('selector', {})
        targets = [d2 for d2 in deps.values()
                   if all(d2['spec']['template']['metadata'].get('labels', {}).get(k) == v for k, v in sel.items())]
        check(f'service_{sn}_selects_a_deployment', sel and len(targets) == 1, f'selector {sel}: {len(targets)}')
        for sp in svc['spec'].get('ports', []):
            ok = any(port_of(c, sp.get('targetPort', sp['port'])) for d2 in targets
                     for c in d2['spec']['template']['spec']['containers'])
            check(f'service_{sn}_{sp.get("name", sp["port"])}_target_port', ok,
                  f'targetPort {sp.get("targetPort")} is no containerPort')
            for d2 in targets:
                for c in d2['spec']['template']['spec']['containers']:
                    p = port_of(c, sp.get('targetPort', sp['port']))
                    if p:
                        facts.append(f'serviceport {d2["metadata"]["name"]}/{c["name"]} {p}')

    # ---------------------------------------------------------- the client's URLs
    # connect's source and target are the relay's and the runner's Services.
    svcs = {doc['metadata']['name']: doc for _, doc in docs if doc.get('kind') == 'Service'}
    cd = deps.get('webhook-relay-connect')
    if cd:
        env = {e['name']: e.get('value', '') for c in cd['spec']['template']['spec']['containers']
               for e in c.get('env', [])}
        for var, svc, path in (('SOURCE_URL', 'webhook-relay', '/subscribe/'), ('TARGET_BASE_URL', 'webhook-runner', '')):
            u = urllib.parse.urlsplit(env.get(var, ''))
            ports = [sp['port'] for sp in svcs.get(svc, {}).get('spec', {}).get('ports', [])]
            check(f'connect_{var}_is_the_{svc}_service', u.hostname == svc and u.port in ports and
                  u.path.startswith(path), f'{env.get(var)}: service {svc} ports {ports}')
    # Secret files are the owner's only (fsGroup makes them 0440, group only).
    modes = [(dn, v['name'], v['secret'].get('defaultMode')) for dn, dep in deps.items()
             for v in dep['spec']['template']['spec'].get('volumes', []) if 'secret' in v]
    check('secret_volumes_mode_0400', modes and all(m == 0o400 for _, _, m in modes), f'{modes}')

    # ---------------------------------------------------------- the runner pod
    rd = deps.get('webhook-runner')
    if rd:
        pod = rd['spec']['template']['spec']
        cs = {c['name']: c for c in pod['containers']}
        check('runner_replicas_at_least_2', rd['spec'].get('replicas', 1) >= 2, f'replicas {rd["spec"].get("replicas")}')
        check('runner_no_shared_pid_namespace', pod.get('shareProcessNamespace') is not True, 'shared PIDs')
        run, ex = cs.get('runner'), cs.get('executor')
        check('runner_pod_has_runner_and_executor', run and ex, f'containers {sorted(cs)}')
        if run and ex:
            args = run.get('args', [])
            cpath = args[args.index('--config') + 1] if '--config' in args else ''
            r = resolve(pod, run, cpath)
            cfg = None
            if r and 'configMap' in r[0]:
                cfg = json.loads(configmaps.get(r[0]['configMap']['name'], {}).get(r[1], 'null'))
            check('runner_config_from_configmap', cfg, f'--config {cpath} is no ConfigMap file')
            eargs = ex.get('command', []) + ex.get('args', [])
            epath = eargs[eargs.index('--config') + 1] if '--config' in eargs else ''
            r = resolve(pod, ex, epath)
            ecfg = None
            if r and 'configMap' in r[0]:
                ecfg = json.loads(configmaps.get(r[0]['configMap']['name'], {}).get(r[1], 'null'))
            check('executor_config_from_configmap', ecfg and 'serve' in eargs, f'{eargs}')
            if cfg and ecfg:
                with open(os.path.join(out, 'runner-config.json'), 'w') as fh:
                    json.dump(cfg, fh, indent=1)
                with open(os.path.join(out, 'executor.json'), 'w') as fh:
                    json.dump(ecfg, fh, indent=1)
                store = cfg.get('store', {})
                check('runner_store_is_postgresql', str(store.get('url', '')).startswith('postgresql://')
                      and 'path' not in store, f'store {store}')
                # Every cred:NAME of a container's config is a file of a Secret
                # mounted at its CREDENTIALS_DIRECTORY (the image's /run/secrets).
                def refs(o):
                    if isinstance(o, dict):
                        for v in o.values():
                            yield from refs(v)
                    elif isinstance(o, list):
                        for v in o:
                            yield from refs(v)
                    elif isinstance(o, str) and o.startswith(('cred:', 'file:', 'env:')):
                        yield o
                for who, c, conf in (('runner', run, cfg), ('executor', ex, ecfg)):
                    rs = sorted(set(refs(conf)))
                    bad = []
                    for ref in rs:
                        if ref.startswith('env:'):
                            bad.append(ref + ' (a secret in the environment)')
                            continue
                        path = '/run/secrets/' + ref[5:] if ref.startswith('cred:') else ref[5:]
                        r2 = resolve(pod, c, path)
                        if not (r2 and 'secret' in r2[0] and volume_has(r2[0], r2[1], configmaps)):
                            bad.append(ref)
                        if ref.startswith('cred:'):
                            facts.append(f'cred webhook-runner/{who} {ref[5:]}')
                    check(f'{who}_secrets_are_mounted_secret_files', rs and not bad,
                          f'refs {rs}; not from a mounted Secret: {bad}')
                # Files the configs name (CA, known_hosts) come from volumes.
                url = str(store.get('url', ''))
                ca = [p.split('=', 1)[1] for p in url.split('?', 1)[-1].split('&') if p.startswith('sslrootcert=')]
                for p in ca:
                    r2 = resolve(pod, run, p)
                    check('runner_db_ca_mounted', r2 and volume_has(r2[0], r2[1], configmaps), f'{p}')
                kh = ecfg.get('known_hosts', '')
                r2 = resolve(pod, ex, kh)
                check('executor_known_hosts_mounted', r2 and volume_has(r2[0], r2[1], configmaps), f'{kh}')
                # The privilege split: the SSH key's Secret is in the executor
                # container only, the runner's config names no key, and the two
                # share the socket's directory, one emptyDir.
                key_vols = set()
                for ident in ecfg.get('identities', {}).values():
                    k = ident.get('key', '')
                    path = '/run/secrets/' + k[5:] if k.startswith('cred:') else k
                    r2 = resolve(pod, ex, path)
                    if r2:
                        key_vols.add(r2[0]['name'])
                run_vols = {m['name'] for m in run.get('volumeMounts', [])}
                check('ssh_key_only_in_executor', key_vols and not key_vols & run_vols,
                      f'key volumes {sorted(key_vols)}, runner mounts {sorted(run_vols)}')
                keyfields = [h['id'] for h in cfg.get('hooks', [])
                             if set(h.get('job', {})) & {'identity', 'passphrase', 'known_hosts'}]
                check('runner_config_names_no_key', not keyfields and
                      all('identity_name' in h.get('job', {}) for h in cfg.get('hooks', [])),
                      f'hooks with key fields: {keyfields}')
                sock = cfg.get('executor', {}).get('socket', '')
                check('socket_paths_agree', sock and sock == ecfg.get('socket'),
                      f'runner {sock}, executor {ecfg.get("socket")}')
                sd = os.path.dirname(sock)
                a, b = resolve(pod, run, sd + '/x'), resolve(pod, ex, sd + '/x')
                check('socket_dir_is_one_shared_emptydir', a and b and a[0]['name'] == b[0]['name']
                      and 'emptyDir' in a[0], f'{a} {b}')
                ruid = run.get('securityContext', {}).get('runAsUser')
                xuid = ex.get('securityContext', {}).get('runAsUser')
                check('executor_runs_as_another_user', ruid and xuid and ruid != xuid, f'{ruid} {xuid}')
                check('executor_allows_the_runner_uid', ecfg.get('allowed_uids') == [ruid],
                      f'allowed_uids {ecfg.get("allowed_uids")}, runner uid {ruid}')
                ops = cfg.get('server', {}).get('ops_listen', '')
                probes = [run.get(k, {}).get('httpGet', {}) for k in ('readinessProbe', 'livenessProbe')]
                check('runner_probes_on_ops_listen', ops and all(
                    p.get('path') == '/healthz' and str(port_of(run, p.get('port'))) == ops.rsplit(':', 1)[1]
                    for p in probes), f'ops_listen {ops}, probes {probes}')
                check('runner_ops_listen_not_loopback', ops and not ops.startswith(('127.', '[::1]', 'localhost')),
                      f'the kubelet probes the pod address: {ops}')
                grace = pod.get('terminationGracePeriodSeconds', 30)
                drains = [cfg.get('server', {}).get('drain_timeout_s', 30), ecfg.get('drain_timeout_s', 60)]
                check('grace_longer_than_drains', grace > max(drains), f'grace {grace}, drains {drains}')
    with open(os.path.join(out, 'facts'), 'w') as fh:
        fh.write('\n'.join(facts) + '\n')
    for name, good, why in results:
        print(f'ok {name}' if good else f'FAIL {name}: {why}')
    return 0 if all(g for _, g, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
