# Shipped inside gitops-ansible and extracted to a temporary directory for each provider; enabled
# through ANSIBLE_CALLBACK_PLUGINS and ANSIBLE_STDOUT_CALLBACK=gitops_jsonl.
#
# Writes one JSON object per line to stdout, each prefixed with "GITOPS-JSONL " so that anything
# else Ansible prints there is told apart. The play named COMPLETED, which the provider runs after
# the playbook, is not shown: each host that reaches it is reported as {"event": "completed"}. Results of no_log tasks keep their status only. Values
# of vault-encrypted variables and of the variables named in GITOPS_SENSITIVE_VARS (comma
# separated, '*' as a wildcard) are replaced by "(sensitive)" in everything written.
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = '''
    name: gitops_jsonl
    type: stdout
    short_description: JSON lines for the gitops SDK
    description:
      - One JSON object per line per task, per host result and for the final stats.
'''

import fnmatch
import json
import os
import sys

from ansible.plugins.callback import CallbackBase

from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode

PREFIX = "GITOPS-JSONL "
REDACTED = "(sensitive)"
COMPLETED = "gitops-jsonl: playbook completed"
MAX_TEXT = 4000
MAX_MSG = 2000
TAIL_LINES = 10
MAX_TAIL = 1500


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'gitops_jsonl'

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._secrets = set()
        names = os.environ.get('GITOPS_SENSITIVE_VARS', '')
        self._sensitive = [n for n in names.split(',') if n]
        self._completed = set()

    # ------------------------------------------------------------ output

    def _emit(self, obj):
        line = PREFIX + json.dumps(self._scrub(obj), sort_keys=True, default=str, ensure_ascii=True)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def _scrub(self, value):
        if isinstance(value, dict):
            return dict((k, self._scrub(v)) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return [self._scrub(v) for v in value]
        if isinstance(value, str) and self._secrets:
            for s in sorted(self._secrets, key=len, reverse=True):
                if s in value:
                    value = value.replace(s, REDACTED)
        return value

    # Every text is scrubbed before it is cut: a secret cut in two is found by no scrubber, here or
    # in the provider, and the part kept would be shown.

    def _text(self, value):
        if value is None:
            return ""
        text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
        return self._scrub(text)[:MAX_TEXT]

    def _tail(self, value):
        """The last lines of a command's output, bounded: where a failure usually says what it is."""
        text = self._scrub(value) if isinstance(value, str) else self._text(value)
        lines = text.rstrip().splitlines()[-TAIL_LINES:]
        tail = "\n".join(lines)
        if len(tail) > MAX_TAIL:
            tail = "..." + tail[-MAX_TAIL:]
        return tail

    def _failure(self, r, out):
        """Ansible's msg and, when the task has them, its return code and the end of its output."""
        src = r
        if 'rc' not in r and not r.get('stderr'):
            # a loop: the first failed item has the command's own result
            for item in r.get('results', []) or []:
                if isinstance(item, dict) and item.get('failed') and not item.get('_ansible_no_log'):
                    src = item
                    break
        msg = r.get('msg') or r.get('reason') or (src.get('msg') if src is not r else '') or ''
        out['msg'] = self._text(msg)[:MAX_MSG]
        if isinstance(src.get('rc'), int):
            out['rc'] = src['rc']
        if src.get('stderr'):
            out['stderr'] = self._tail(src['stderr'])
        elif src.get('stdout') and src.get('rc'):
            # nothing on stderr: some tools report their failure on stdout
            out['stdout'] = self._tail(src['stdout'])

    # ------------------------------------------------------------ secrets

    def _collect(self, name, value, templar):
        if isinstance(value, AnsibleVaultEncryptedUnicode):
            try:
                self._add_secret(str(value))
            except Exception:  # no vault password here: the ciphertext itself is not secret
                pass
            return
        if isinstance(value, dict):
            for k, v in value.items():
                self._collect(name, v, templar)
        elif isinstance(value, (list, tuple)):
            for v in value:
                self._collect(name, v, templar)

    def _add_secret(self, text):
        if isinstance(text, str) and text.strip():
            self._secrets.add(text)
            for line in text.splitlines():
                if len(line.strip()) >= 4:
                    self._secrets.add(line.strip())

    def _sensitive_name(self, name):
        return any(fnmatch.fnmatchcase(name, p) for p in self._sensitive)

    def _sensitive_value(self, value, templar):
        try:
            rendered = templar.template(value, fail_on_undefined=False) if templar is not None else value
        except Exception:
            rendered = value
        if isinstance(rendered, (dict, list, tuple)):
            for v in (rendered.values() if isinstance(rendered, dict) else rendered):
                self._sensitive_value(v, None)
        elif isinstance(rendered, str):
            self._add_secret(rendered)
        elif rendered is not None and not isinstance(rendered, bool):
            text = str(rendered)
            if len(text) >= 4:
                self._add_secret(text)

    def v2_playbook_on_play_start(self, play):
        if play.get_name() == COMPLETED:
            return
        try:
            vm = play.get_variable_manager()
            inventory = vm._inventory
            loader = play._loader
            from ansible.template import Templar
            # every host of the inventory, not only the play's hosts within --limit: a task may
            # print another host's secret through hostvars
            for host in inventory.get_hosts('all', ignore_limits=True, ignore_restrictions=True):
                hostvars = vm.get_vars(play=play, host=host, include_hostvars=False)
                templar = Templar(loader=loader, variables=hostvars)
                for name, value in hostvars.items():
                    self._collect(name, value, templar)
                    if self._sensitive_name(name):
                        self._sensitive_value(value, templar)
        except Exception as e:  # scrubbing must not stop the run; say so
            self._emit({'event': 'warning', 'msg': 'could not collect sensitive values: %s' % type(e).__name__})
        self._emit({'event': 'play', 'name': play.get_name()})

    # ------------------------------------------------------------ tasks and results

    def v2_playbook_on_task_start(self, task, is_conditional):
        if task.get_name() == COMPLETED:
            return
        self._emit({'event': 'task', 'task': task.get_name()})

    def v2_playbook_on_handler_task_start(self, task):
        self._emit({'event': 'task', 'task': task.get_name(), 'handler': True})

    def v2_runner_on_start(self, host, task):
        if task.get_name() == COMPLETED:
            return
        out = {'event': 'start', 'host': host.get_name(), 'task': task.get_name()}
        try:
            path = task.get_path()
            if path:
                out['path'] = path
        except Exception:  # a task built in memory has no file
            pass
        self._emit(out)

    def _result(self, result, status, **extra):
        if result._task.get_name() == COMPLETED:
            if status == 'ok':
                self._completed.add(result._host.get_name())
                self._emit({'event': 'completed', 'host': result._host.get_name()})
            return
        r = result._result
        hidden = bool(getattr(result._task, 'no_log', False)) or bool(r.get('_ansible_no_log')) or 'censored' in r
        out = {'event': 'result', 'host': result._host.get_name(), 'task': result._task.get_name(),
               'status': status, 'no_log': hidden}
        out.update(extra)
        try:
            path = result._task.get_path()
            if path:
                out['path'] = path
        except Exception:  # a task built in memory has no file
            pass
        if hidden:
            self._emit(out)
            return
        if status in ('failed', 'unreachable'):
            self._failure(r, out)
        diffs = []
        if 'diff' in r and r['diff']:
            diffs.append(r['diff'])
        for item in r.get('results', []) or []:
            if isinstance(item, dict) and item.get('diff') and not item.get('_ansible_no_log'):
                diffs.append(item['diff'])
        if diffs:
            try:
                text = ''.join(self._get_diff(d) for d in diffs)
            except Exception:
                text = self._text(diffs)
            out['diff'] = self._scrub(text)[:MAX_TEXT * 4]
        self._emit(out)

    def v2_runner_on_ok(self, result):
        self._result(result, 'changed' if result._result.get('changed', False) else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'failed', ignored=bool(ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_playbook_on_no_hosts_matched(self):
        self._emit({'event': 'no_hosts_matched'})

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for h in sorted(stats.processed.keys()):
            counts = stats.summarize(h)
            if h in self._completed:
                # the completion play's one task is not the playbook's
                counts['ok'] = max(0, counts.get('ok', 0) - 1)
                if not any(counts.values()):
                    continue  # no task of the playbook ran for this host
            hosts[h] = counts
        self._emit({'event': 'stats', 'hosts': hosts})
