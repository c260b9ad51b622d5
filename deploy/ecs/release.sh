#!/bin/sh
# Run the release step (migrations, changed static files) of a new image on the
# ECS stack, once, before the services are updated to that image.
#
#   deploy/ecs/release.sh STACK_NAME IMAGE_URI
#
# It copies the stack's web task definition with the new image, runs it once
# with the command "release", waits, and fails unless the container exited 0.
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: $0 STACK_NAME IMAGE_URI" >&2
  exit 2
fi
stack="$1"
image="$2"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

cluster="$(output ClusterName)"
current="$(output WebTaskDefinitionArn)"
subnets="$(output TaskSubnets)"
security_group="$(output TaskSecurityGroup)"

definition="$(aws ecs describe-task-definition --task-definition "$current" --query taskDefinition --output json |
  IMAGE="$image" STACK="$stack" python3 -c '
import json, os, sys
task = json.load(sys.stdin)
keep = ("containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities",
        "executionRoleArn", "taskRoleArn", "runtimePlatform")
release = {key: task[key] for key in keep if key in task}
release["family"] = os.environ["STACK"] + "-release"
container = release["containerDefinitions"][0]
container["image"] = os.environ["IMAGE"]
container["command"] = ["release"]
container.pop("portMappings", None)
print(json.dumps(release))
')"

release_arn="$(aws ecs register-task-definition --cli-input-json "$definition" \
  --query taskDefinition.taskDefinitionArn --output text)"
echo "release task definition: $release_arn"

task_arn="$(aws ecs run-task --cluster "$cluster" --launch-type FARGATE --task-definition "$release_arn" \
  --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$security_group],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)"
echo "release task: $task_arn (logs: CloudWatch group /ecs/$stack)"

aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task_arn"
exit_code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
  --query 'tasks[0].containers[0].exitCode' --output text)"
if [ "$exit_code" != "0" ]; then
  echo "release failed (exit code $exit_code); the services still run the previous image" >&2
  exit 1
fi
echo "release done"
