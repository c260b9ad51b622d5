#!/bin/sh
# Run the release step (migrations, changed static files, the listing) of a new
# image on the ECS stack, once, before the services are updated to that image.
#
#   AWS_REGION=eu-west-1 deploy/ecs/release.sh STACK_NAME IMAGE_URI
#
# It copies the stack's release task definition with the new image, runs it
# once, waits, and fails unless the container exited 0.
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: AWS_REGION=<region> $0 STACK_NAME IMAGE_URI" >&2
  exit 2
fi
stack="$1"
image="$2"
region="${AWS_REGION:-}"
if [ -z "$region" ]; then
  echo "AWS_REGION must name the stack's region (e.g. AWS_REGION=eu-west-1)" >&2
  exit 2
fi

output() {
  aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

cluster="$(output ClusterName)"
current="$(output ReleaseTaskDefinitionArn)"
subnets="$(output TaskSubnets)"
security_group="$(output TaskSecurityGroup)"

definition="$(aws ecs describe-task-definition --region "$region" --task-definition "$current" \
  --query taskDefinition --output json |
  IMAGE="$image" python3 -c '
import json, os, sys
task = json.load(sys.stdin)
keep = ("family", "containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities",
        "executionRoleArn", "taskRoleArn", "runtimePlatform")
release = {key: task[key] for key in keep if key in task}
release["containerDefinitions"][0]["image"] = os.environ["IMAGE"]
print(json.dumps(release))
')"

release_arn="$(aws ecs register-task-definition --region "$region" --cli-input-json "$definition" \
  --query taskDefinition.taskDefinitionArn --output text)"
echo "release task definition: $release_arn"

task_arn="$(aws ecs run-task --region "$region" --cluster "$cluster" --launch-type FARGATE \
  --task-definition "$release_arn" \
  --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$security_group],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)"
echo "release task: $task_arn (logs: CloudWatch group /ecs/$stack, streams release/…)"

aws ecs wait tasks-stopped --region "$region" --cluster "$cluster" --tasks "$task_arn"
exit_code="$(aws ecs describe-tasks --region "$region" --cluster "$cluster" --tasks "$task_arn" \
  --query 'tasks[0].containers[0].exitCode' --output text)"
if [ "$exit_code" != "0" ]; then
  echo "release failed (exit code $exit_code); the services still run the previous image" >&2
  exit 1
fi
echo "release done"
