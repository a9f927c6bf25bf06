/**
 * A fake AWS endpoint on 127.0.0.1:0 for one EC2 Auto Scaling group, speaking the real wire
 * format so the real SDK v3 clients (signing, serialisation, XML parsing, error mapping) run
 * against it:
 *
 * - Requests: form-encoded POST `Action=...&Version=...`; Version 2011-01-01 is Auto Scaling
 *   (awsQuery), 2016-11-15 is EC2 (ec2Query). Every request must carry a SigV4 Authorization
 *   header (present, not verified); without one the fake answers 403 MissingAuthenticationToken.
 * - Responses: the XML of the AWS API references (DescribeAutoScalingGroupsResponse/
 *   DescribeAutoScalingGroupsResult/AutoScalingGroups/member, EC2 DescribeInstancesResponse/
 *   reservationSet/item/instancesSet/item); errors as `<ErrorResponse><Error>` (Auto Scaling,
 *   400) or `<Response><Errors><Error>` (EC2), with the `x-amzn-RequestId` header.
 *
 * Group behaviour: SetDesiredCapacity launches Pending instances that turn InService after
 * `pendingDescribes` DescribeAutoScalingGroups calls, or marks the newest instances Terminating;
 * TerminateInstanceInAutoScalingGroup marks exactly the named one Terminating. A Terminating
 * instance is shown by one more describe, then leaves the group (EC2 keeps it as 'terminated').
 * Min/max are enforced with the ValidationError messages AWS uses.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer } from './servers.js';

export interface FakeInstanceSeed {
  readonly id?: string;
  /** Auto Scaling LifecycleState; default 'InService'. */
  readonly lifecycle?: string;
  readonly privateIp?: string;
  /** null: the instance has no public address. */
  readonly publicIp?: string | null;
  readonly launchTime?: Date;
}

export interface FakeAwsOptions {
  readonly groupName: string;
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly instances?: readonly FakeInstanceSeed[];
  /** Describes a new instance stays Pending before InService; default 1. */
  readonly pendingDescribes?: number;
  /** EC2 DescribeInstances page size (instances per page), to exercise nextToken; default all. */
  readonly ec2PageSize?: number;
}

export interface RecordedAwsRequest {
  readonly service: 'autoscaling' | 'ec2' | 'unknown';
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
}

export interface FakeAwsError {
  readonly code: string;
  readonly message: string;
  /** Default 400 (EC2 answers RequestLimitExceeded with 503). */
  readonly status?: number;
}

interface FakeInstance {
  readonly id: string;
  lifecycle: string;
  readonly privateIp: string;
  readonly publicIp: string | null;
  readonly launchTime: Date;
  pendingLeft: number;
  ec2State: 'pending' | 'running' | 'terminated';
}

const ASG_NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const LIVE = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService']);

class AwsError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

/** Starts the fake; see the module comment for what it models. */
export async function startAwsEndpoint(options: FakeAwsOptions) {
  const requests: RecordedAwsRequest[] = [];
  const failures: Array<{ action: string; error: FakeAwsError }> = [];
  const ec2 = new Map<string, FakeInstance>();
  let sequence = 0;
  const launch = (seed: FakeInstanceSeed = {}): FakeInstance => {
    sequence += 1;
    const lifecycle = seed.lifecycle ?? 'Pending';
    const instance: FakeInstance = {
      id: seed.id ?? `i-${(0xa000 + sequence).toString(16).padStart(17, '0')}`,
      lifecycle,
      privateIp: seed.privateIp ?? `10.0.${Math.floor(sequence / 250)}.${(sequence % 250) + 4}`,
      publicIp: seed.publicIp === undefined ? `54.80.${Math.floor(sequence / 250)}.${(sequence % 250) + 4}` : seed.publicIp,
      launchTime: seed.launchTime ?? new Date(),
      pendingLeft: options.pendingDescribes ?? 1,
      ec2State: lifecycle.startsWith('Pending') ? 'pending' : 'running',
    };
    ec2.set(instance.id, instance);
    return instance;
  };
  const seeds = options.instances ?? [];
  const group = {
    name: options.groupName,
    minSize: options.minSize ?? 0,
    maxSize: options.maxSize ?? 10,
    desired: seeds.filter((s) => LIVE.has(s.lifecycle ?? 'InService')).length,
    members: seeds.map((seed) => launch({ lifecycle: 'InService', ...seed })),
  };
  const live = () => group.members.filter((m) => LIVE.has(m.lifecycle));

  const asgActions: Record<string, (p: Record<string, string>) => string> = {
    DescribeAutoScalingGroups(p) {
      const names = listParam(p, 'AutoScalingGroupNames.member');
      const found = names.length === 0 || names.includes(group.name);
      const body = result('DescribeAutoScalingGroups', `<AutoScalingGroups>${found ? groupXml(group) : ''}</AutoScalingGroups>`);
      advance();
      return body;
    },
    SetDesiredCapacity(p) {
      requireGroup(p.AutoScalingGroupName);
      const desired = Number(p.DesiredCapacity);
      if (desired > group.maxSize) throw new AwsError('ValidationError', `New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`);
      if (desired < group.minSize) throw new AwsError('ValidationError', `New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`);
      group.desired = desired;
      const current = live();
      for (let i = current.length; i < desired; i += 1) group.members.push(launch());
      for (const victim of current.reverse().slice(0, Math.max(0, current.length - desired))) victim.lifecycle = 'Terminating';
      return `<SetDesiredCapacityResponse xmlns="${ASG_NS}">${metadata()}</SetDesiredCapacityResponse>`;
    },
    TerminateInstanceInAutoScalingGroup(p) {
      const victim = group.members.find((m) => m.id === p.InstanceId && m.lifecycle !== 'Terminated');
      if (!victim) throw new AwsError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${p.InstanceId}`);
      const decrement = p.ShouldDecrementDesiredCapacity === 'true';
      if (decrement && group.desired - 1 < group.minSize) {
        throw new AwsError('ValidationError', `Currently, desiredCapacity=${group.desired} and minSize=${group.minSize}. Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
      }
      const from = group.desired;
      if (decrement) group.desired -= 1;
      else group.members.push(launch());
      victim.lifecycle = 'Terminating';
      const activity = `<ActivityId>${randomUUID()}</ActivityId><AutoScalingGroupName>${group.name}</AutoScalingGroupName><Description>Terminating EC2 instance: ${victim.id}</Description><Cause>At ${new Date().toISOString()} instance ${victim.id} was taken out of service in response to a user request, shrinking the capacity from ${from} to ${group.desired}.</Cause><StartTime>${new Date().toISOString()}</StartTime><StatusCode>InProgress</StatusCode><Progress>0</Progress><Details>{"Availability Zone":"us-east-1a"}</Details>`;
      return result('TerminateInstanceInAutoScalingGroup', `<Activity>${activity}</Activity>`);
    },
  };

  function requireGroup(name: string | undefined): void {
    if (name !== group.name) throw new AwsError('ValidationError', 'AutoScalingGroup name not found - null');
  }

  /** One describe later: Pending counts down to InService, Terminating leaves the group. */
  function advance(): void {
    for (const m of group.members) {
      if (m.lifecycle === 'Terminating') {
        m.lifecycle = 'Terminated';
        m.ec2State = 'terminated';
      } else if (m.lifecycle === 'Pending' && --m.pendingLeft <= 0) {
        m.lifecycle = 'InService';
        m.ec2State = 'running';
      }
    }
    group.members = group.members.filter((m) => m.lifecycle !== 'Terminated');
  }

  function describeInstances(p: Record<string, string>): string {
    const ids = listParam(p, 'InstanceId');
    for (const id of ids) if (!ec2.has(id)) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    let selected = ids.length > 0 ? ids.map((id) => ec2.get(id) as FakeInstance) : [...ec2.values()];
    for (let n = 1; p[`Filter.${n}.Name`] !== undefined; n += 1) {
      if (p[`Filter.${n}.Name`] !== 'instance-id') throw new AwsError('InvalidParameterValue', `The filter '${p[`Filter.${n}.Name`]}' is invalid`);
      const values = listParam(p, `Filter.${n}.Value`);
      selected = selected.filter((i) => values.includes(i.id));
    }
    const start = Number(p.NextToken ?? 0);
    const size = Math.min(options.ec2PageSize ?? Infinity, Number(p.MaxResults ?? Infinity));
    const page = selected.slice(start, start + size);
    const next = start + size < selected.length ? `<nextToken>${start + size}</nextToken>` : '';
    return `<DescribeInstancesResponse xmlns="${EC2_NS}"><requestId>${randomUUID()}</requestId><reservationSet>${page.map(reservationXml).join('')}</reservationSet>${next}</DescribeInstancesResponse>`;
  }

  function dispatch(service: RecordedAwsRequest['service'], action: string, params: Record<string, string>): string {
    const failure = failures.findIndex((f) => f.action === action);
    if (failure >= 0) {
      const { error } = failures.splice(failure, 1)[0] as { error: FakeAwsError };
      throw new AwsError(error.code, error.message, error.status);
    }
    if (service === 'ec2' && action === 'DescribeInstances') return describeInstances(params);
    const handler = service === 'autoscaling' ? asgActions[action] : undefined;
    if (!handler) throw new AwsError('InvalidAction', `Could not find operation ${action} for version ${params.Version}`);
    return handler(params);
  }

  const server = await startServer((req, res) => {
    void readBody(req).then((body) => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const service = params.Version === '2011-01-01' ? 'autoscaling' : params.Version === '2016-11-15' ? 'ec2' : 'unknown';
      const action = params.Action ?? '';
      const authorization = req.headers.authorization;
      requests.push({ service, action, params, authorization });
      try {
        if (!authorization?.startsWith('AWS4-HMAC-SHA256 Credential=')) throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
        if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
          throw new AwsError('InvalidQueryParameter', 'expected a form-encoded POST');
        }
        send(res, 200, dispatch(service, action, params));
      } catch (caught) {
        const error = caught instanceof AwsError ? caught : new AwsError('InternalFailure', String(caught), 500);
        send(res, error.status, service === 'ec2' ? ec2ErrorXml(error) : asgErrorXml(error));
      }
    });
  });

  return {
    url: server.url,
    /** Every request in arrival order. */
    requests,
    /** The group now (a copy). */
    group: () => ({ ...group, members: group.members.map((m) => ({ id: m.id, lifecycle: m.lifecycle })) }),
    /** The next `times` calls of `action` fail with `error` instead of acting. */
    failNext(action: string, error: FakeAwsError, times = 1): void {
      for (let i = 0; i < times; i += 1) failures.push({ action, error });
    },
    close: () => server.close(),
  };
}

export type FakeAwsEndpoint = Awaited<ReturnType<typeof startAwsEndpoint>>;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-RequestId': randomUUID() });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}

/** Query-protocol list members `prefix.1`, `prefix.2`, ... in order. */
function listParam(params: Record<string, string>, prefix: string): string[] {
  const values: string[] = [];
  for (let n = 1; params[`${prefix}.${n}`] !== undefined; n += 1) values.push(params[`${prefix}.${n}`] as string);
  return values;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const metadata = () => `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;

function result(action: string, inner: string): string {
  return `<${action}Response xmlns="${ASG_NS}"><${action}Result>${inner}</${action}Result>${metadata()}</${action}Response>`;
}

function groupXml(group: { name: string; minSize: number; maxSize: number; desired: number; members: FakeInstance[] }): string {
  const instances = group.members
    .map((m) => `<member><InstanceId>${m.id}</InstanceId><InstanceType>t3.micro</InstanceType><AvailabilityZone>us-east-1a</AvailabilityZone><LifecycleState>${m.lifecycle}</LifecycleState><HealthStatus>Healthy</HealthStatus><LaunchTemplate><LaunchTemplateId>lt-0123456789abcdef0</LaunchTemplateId><LaunchTemplateName>web</LaunchTemplateName><Version>1</Version></LaunchTemplate><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`)
    .join('');
  return `<member><AutoScalingGroupARN>arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0f4c5e1a-0000-4000-8000-000000000000:autoScalingGroupName/${escapeXml(group.name)}</AutoScalingGroupARN><AutoScalingGroupName>${escapeXml(group.name)}</AutoScalingGroupName><LaunchTemplate><LaunchTemplateId>lt-0123456789abcdef0</LaunchTemplateId><LaunchTemplateName>web</LaunchTemplateName><Version>1</Version></LaunchTemplate><MinSize>${group.minSize}</MinSize><MaxSize>${group.maxSize}</MaxSize><DesiredCapacity>${group.desired}</DesiredCapacity><DefaultCooldown>300</DefaultCooldown><AvailabilityZones><member>us-east-1a</member></AvailabilityZones><LoadBalancerNames/><TargetGroupARNs/><HealthCheckType>EC2</HealthCheckType><HealthCheckGracePeriod>300</HealthCheckGracePeriod><Instances>${instances}</Instances><CreatedTime>2024-01-15T10:00:00.000Z</CreatedTime><SuspendedProcesses/><VPCZoneIdentifier>subnet-0123456789abcdef0</VPCZoneIdentifier><EnabledMetrics/><Tags/><TerminationPolicies><member>Default</member></TerminationPolicies><NewInstancesProtectedFromScaleIn>false</NewInstancesProtectedFromScaleIn><ServiceLinkedRoleARN>arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling</ServiceLinkedRoleARN></member>`;
}

const EC2_STATE_CODES = { pending: 0, running: 16, terminated: 48 } as const;

function reservationXml(i: FakeInstance): string {
  const addresses = i.ec2State === 'terminated' ? '' : `<privateIpAddress>${i.privateIp}</privateIpAddress>${i.publicIp ? `<ipAddress>${i.publicIp}</ipAddress>` : ''}`;
  const instance = `<instanceId>${i.id}</instanceId><imageId>ami-0abcdef1234567890</imageId><instanceState><code>${EC2_STATE_CODES[i.ec2State]}</code><name>${i.ec2State}</name></instanceState><instanceType>t3.micro</instanceType><launchTime>${i.launchTime.toISOString()}</launchTime><placement><availabilityZone>us-east-1a</availabilityZone><tenancy>default</tenancy></placement><subnetId>subnet-0123456789abcdef0</subnetId><vpcId>vpc-0123456789abcdef0</vpcId>${addresses}`;
  return `<item><reservationId>r-${i.id.slice(2)}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet><item>${instance}</item></instancesSet></item>`;
}

function asgErrorXml(error: AwsError): string {
  return `<ErrorResponse xmlns="${ASG_NS}"><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function ec2ErrorXml(error: AwsError): string {
  return `<Response><Errors><Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
}
