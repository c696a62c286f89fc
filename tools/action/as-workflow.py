"""Writes action.yml's steps as a reusable workflow, so actionlint (which
checks workflows, not action metadata) checks the composite action's own
steps: expressions, `inputs.*` names, the inputs of the actions it uses, and
its shell. Usage: as-workflow.py action.yml OUT.yml (JSON is YAML)."""

import json
import sys

import yaml


def main(source, target):
    with open(source, encoding="utf-8") as f:
        action = yaml.safe_load(f)
    inputs = {}
    for name, spec in (action.get("inputs") or {}).items():
        entry = {"type": "string", "required": bool(spec.get("required", False))}
        if "default" in spec:
            entry["default"] = str(spec["default"])
        if spec.get("description"):
            entry["description"] = spec["description"]
        inputs[name] = entry
    workflow = {
        "name": f"{action.get('name', 'action')} (action.yml as a workflow, for actionlint)",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    with open(target, "w", encoding="utf-8") as f:
        json.dump(workflow, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
