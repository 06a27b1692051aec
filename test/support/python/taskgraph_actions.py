# Run taskgraph's own code as scriptworker-scripts' decision task runs it, up to actions.json:
# load_graph_config, the repository's register(), get_decision_parameters (which calls the
# repository's decision-parameters hook and Parameters.check()), render_actions_json.
# Runs with the current folder at the root of a git checkout of the consumer repository.
#
#   python3 taskgraph_actions.py '{"head_ref": "refs/heads/master", ...}'  -> actions.json on stdout
import json
import os
import sys

# The taskcluster Python client is stubs/taskcluster (import-only; on PYTHONPATH).
from taskgraph.actions.registry import callbacks, render_actions_json  # noqa: E402
from taskgraph.config import load_graph_config  # noqa: E402
from taskgraph.decision import get_decision_parameters  # noqa: E402

options = json.loads(sys.argv[1])
decision_task_id = options.pop("decision_task_id")
graph_config = load_graph_config(os.path.join(os.getcwd(), "taskcluster"))
graph_config.register()
parameters = get_decision_parameters(graph_config, options)
actions = render_actions_json(parameters, graph_config, decision_task_id)

# What the registered promote_image callback does if taskgraph ever ran it (it must refuse:
# .taskcluster.yml sends promote_image to tc-promote's image).
callback_error = None
if "promote_image" in callbacks:
    try:
        callbacks["promote_image"](parameters, graph_config, {}, decision_task_id, None)
        callback_error = ""
    except Exception as e:
        callback_error = str(e)
print(json.dumps({"parameters": dict(parameters), "actions": actions, "callbackError": callback_error}, sort_keys=True, default=str))
