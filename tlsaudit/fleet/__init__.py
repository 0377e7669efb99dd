"""Fleet mode: the stdlib-only collector that runs on each host, the Ansible playbook that runs it, and the
controller side that turns what came back into facts and one report."""
