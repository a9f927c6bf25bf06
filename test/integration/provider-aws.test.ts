import { afterAll, describe, expect, it } from 'vitest';
import { PrescaleError } from '../../src/errors.js';
import { AwsAutoScalingProvider, type AwsAutoScalingProviderOptions } from '../../src/scaler/providers/aws.js';
import { startAwsEndpoint, type FakeAwsEndpoint, type FakeAwsOptions, type RecordedAwsRequest } from '../helpers/aws-endpoint.js';
import { deadPort } from '../helpers/servers.js';

// The real SDK v3 clients (SigV4, awsQuery / ec2Query serialisation, XML parsing, error
// mapping) against a fake endpoint that speaks the AWS wire format (test/helpers/aws-endpoint.ts).
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

const LAUNCHED = new Date('2026-03-01T12:00:00.000Z');

async function setup(fake: FakeAwsOptions, overrides: Partial<AwsAutoScalingProviderOptions> = {}) {
  const aws = await startAwsEndpoint(fake);
  const warnings: string[] = [];
  const logger = { info: () => {}, error: () => {}, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
  const provider = new AwsAutoScalingProvider({
    groupName: fake.groupName,
    region: 'us-east-1',
    port: 8080,
    endpoint: aws.url,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
    logger,
    ...overrides,
  });
  closers.push(() => provider.close(), () => aws.close());
  return { aws, provider, warnings };
}

/** Requests the provider made that change the group (the describes left out). */
function mutations(aws: FakeAwsEndpoint): RecordedAwsRequest[] {
  return aws.requests.filter((r) => r.action === 'SetDesiredCapacity' || r.action === 'TerminateInstanceInAutoScalingGroup');
}

async function rejection(promise: Promise<unknown>): Promise<PrescaleError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PrescaleError);
  return error as PrescaleError;
}

describe('aws provider (EC2 Auto Scaling)', () => {
  it('maps lifecycle states: InService runs at its private IP, Pending* provisions, leaving instances are left out', async () => {
    const { aws, provider } = await setup({
      groupName: 'web',
      instances: [
        { id: 'i-0000000000000000a', lifecycle: 'InService', privateIp: '10.0.1.10', launchTime: LAUNCHED },
        { id: 'i-0000000000000000b', lifecycle: 'Pending', launchTime: LAUNCHED },
        { id: 'i-0000000000000000c', lifecycle: 'Pending:Wait' },
        { id: 'i-0000000000000000d', lifecycle: 'Pending:Proceed' },
        { id: 'i-0000000000000000e', lifecycle: 'Terminating:Wait' },
        { id: 'i-0000000000000000f', lifecycle: 'Standby' },
        { id: 'i-00000000000000010', lifecycle: 'Detaching' },
        { id: 'i-00000000000000011', lifecycle: 'Terminating' },
      ],
      pendingDescribes: 100,
    });
    const before = Date.now();
    const { instances } = await provider.describe();
    expect(instances.map(({ id, state, url }) => ({ id, state, url }))).toEqual([
      { id: 'i-0000000000000000a', state: 'running', url: 'http://10.0.1.10:8080' },
      { id: 'i-0000000000000000b', state: 'provisioning', url: null },
      { id: 'i-0000000000000000c', state: 'provisioning', url: null },
      { id: 'i-0000000000000000d', state: 'provisioning', url: null },
    ]);
    expect(instances[0]?.requestedAtMs).toBe(LAUNCHED.getTime());
    expect(instances[1]?.requestedAtMs).toBe(LAUNCHED.getTime());
    expect(instances[2]?.requestedAtMs).toBeGreaterThanOrEqual(before - 60_000);

    // What went over the wire: signed query-protocol calls, EC2 asked by instance-id filter.
    expect(aws.requests.map((r) => [r.service, r.action])).toEqual([
      ['autoscaling', 'DescribeAutoScalingGroups'],
      ['ec2', 'DescribeInstances'],
    ]);
    const [asgCall, ec2Call] = aws.requests as [RecordedAwsRequest, RecordedAwsRequest];
    expect(asgCall.params).toMatchObject({ Version: '2011-01-01', 'AutoScalingGroupNames.member.1': 'web' });
    expect(ec2Call.params).toMatchObject({ Version: '2016-11-15', 'Filter.1.Name': 'instance-id', 'Filter.1.Value.1': 'i-0000000000000000a', 'Filter.1.Value.4': 'i-0000000000000000d' });
    expect(ec2Call.params['Filter.1.Value.5']).toBeUndefined();
    expect(asgCall.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/autoscaling\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/);
    expect(ec2Call.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/ec2\/aws4_request/);
  });

  it('uses public addresses and https when asked; an InService instance without one stays provisioning', async () => {
    const { provider, warnings } = await setup(
      { groupName: 'edge', instances: [{ id: 'i-0000000000000000a', publicIp: '54.1.2.3' }, { id: 'i-0000000000000000b', publicIp: null }] },
      { addressType: 'public', scheme: 'https', port: 8443 },
    );
    const { instances } = await provider.describe();
    expect(instances.map(({ id, state, url }) => ({ id, state, url }))).toEqual([
      { id: 'i-0000000000000000a', state: 'running', url: 'https://54.1.2.3:8443' },
      { id: 'i-0000000000000000b', state: 'provisioning', url: null },
    ]);
    await provider.describe();
    expect(warnings.filter((w) => w.includes('no public IPv4 address'))).toHaveLength(1);
  });

  it('reads every DescribeInstances page', async () => {
    const { aws, provider } = await setup({ groupName: 'paged', instances: Array.from({ length: 5 }, () => ({})), ec2PageSize: 2 });
    const { instances } = await provider.describe();
    expect(instances).toHaveLength(5);
    expect(instances.every((i) => i.state === 'running' && /^http:\/\/10\.0\.\d+\.\d+:8080$/.test(i.url ?? ''))).toBe(true);
    expect(aws.requests.filter((r) => r.action === 'DescribeInstances').map((r) => r.params.NextToken)).toEqual([undefined, '2', '4']);
  });

  it('scales out with SetDesiredCapacity; new instances appear as provisioning, then running with their URLs', async () => {
    const { aws, provider } = await setup({ groupName: 'web', minSize: 1, maxSize: 5, instances: [{ id: 'i-0000000000000000a' }], pendingDescribes: 2 });
    await provider.setDesired(3);
    expect(mutations(aws).map((r) => r.params)).toEqual([
      expect.objectContaining({ Action: 'SetDesiredCapacity', AutoScalingGroupName: 'web', DesiredCapacity: '3', HonorCooldown: 'false' }),
    ]);
    const seen: string[] = [];
    let fleet = await provider.describe();
    for (let i = 0; i < 5 && fleet.instances.some((inst) => inst.state !== 'running'); i += 1) {
      seen.push(fleet.instances.map((inst) => inst.state).join(','));
      fleet = await provider.describe();
    }
    expect(seen[0]).toBe('running,provisioning,provisioning');
    expect(fleet.instances).toHaveLength(3);
    const urls = fleet.instances.map((inst) => inst.url);
    expect(new Set(urls).size).toBe(3);
    for (const url of urls) expect(url).toMatch(/^http:\/\/10\.0\.\d+\.\d+:8080$/);

    await provider.setDesired(3);
    expect(mutations(aws)).toHaveLength(1); // already there: no call
  });

  it('scales in by terminating exactly the named victims and decrementing the desired capacity', async () => {
    const ids = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c', 'i-0000000000000000d'];
    const { aws, provider } = await setup({ groupName: 'web', minSize: 1, instances: ids.map((id) => ({ id })) });
    await provider.setDesired(2, { remove: ['i-0000000000000000b', 'i-0000000000000000d'] });
    expect(mutations(aws).map((r) => r.params)).toEqual([
      expect.objectContaining({ Action: 'TerminateInstanceInAutoScalingGroup', InstanceId: 'i-0000000000000000b', ShouldDecrementDesiredCapacity: 'true' }),
      expect.objectContaining({ Action: 'TerminateInstanceInAutoScalingGroup', InstanceId: 'i-0000000000000000d', ShouldDecrementDesiredCapacity: 'true' }),
    ]);
    expect(aws.group().desired).toBe(2);
    // The victims are Terminating at first, then gone; either way they are not in the fleet.
    for (let i = 0; i < 2; i += 1) {
      expect((await provider.describe()).instances.map((inst) => inst.id)).toEqual(['i-0000000000000000a', 'i-0000000000000000c']);
    }
    expect(aws.group().members.map((m) => m.id)).toEqual(['i-0000000000000000a', 'i-0000000000000000c']);
  });

  it('lets the group pick when a named victim is not in it, and never terminates more than the shrink needs', async () => {
    const ids = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c'];
    const { aws, provider, warnings } = await setup({ groupName: 'web', instances: ids.map((id) => ({ id })) });
    await provider.setDesired(1, { remove: ['i-0000000000000dead', 'i-0000000000000000a'] });
    expect(mutations(aws).map((r) => [r.action, r.params.InstanceId ?? r.params.DesiredCapacity])).toEqual([
      ['TerminateInstanceInAutoScalingGroup', 'i-0000000000000000a'],
      ['SetDesiredCapacity', '1'],
    ]);
    expect(warnings).toEqual([expect.stringContaining('is not in the group')]);

    await provider.setDesired(0, { remove: ['i-0000000000000000b', 'i-0000000000000000c'] }); // one left in the group now
    expect(mutations(aws).slice(2).map((r) => r.params.InstanceId)).toEqual(['i-0000000000000000b']);
    expect(aws.group().desired).toBe(0);
  });

  it("clamps to the group's MinSize and MaxSize", async () => {
    const ids = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c'];
    const { aws, provider, warnings } = await setup({ groupName: 'web', minSize: 2, maxSize: 4, instances: ids.map((id) => ({ id })) });
    await provider.setDesired(10);
    expect(aws.group().desired).toBe(4);
    await provider.setDesired(0);
    expect(aws.group().desired).toBe(2);
    expect(mutations(aws).map((r) => r.params.DesiredCapacity)).toEqual(['4', '2']);
    expect(warnings.filter((w) => w.includes('clamped'))).toHaveLength(2);
    expect(warnings).toHaveLength(2);

    // At MinSize, a named victim is kept: terminating it would go below the minimum.
    await provider.describe();
    await provider.setDesired(1, { remove: ['i-0000000000000000a'] });
    expect(mutations(aws)).toHaveLength(2);
    expect(aws.group().desired).toBe(2);
  });

  it('reports Auto Scaling throttling as PRESCALE_ERR_PROVIDER with retryAfterMs', async () => {
    const { aws, provider } = await setup({ groupName: 'web', instances: [{}] }, { throttleRetryAfterMs: 1_500 });
    aws.failNext('DescribeAutoScalingGroups', { code: 'Throttling', message: 'Rate exceeded' });
    const error = await rejection(provider.describe());
    expect(error.code).toBe('PRESCALE_ERR_PROVIDER');
    expect(error.message).toMatch(/DescribeAutoScalingGroups .*'web' in us-east-1 failed: Throttling: Rate exceeded/);
    expect(error.details).toMatchObject({ awsCode: 'Throttling', httpStatusCode: 400, retryAfterMs: 1_500, requestId: expect.any(String) });
    expect(aws.requests).toHaveLength(1); // maxAttempts: 1
    expect((await provider.describe()).instances).toHaveLength(1);
  });

  it('reports EC2 RequestLimitExceeded the same way', async () => {
    const { aws, provider } = await setup({ groupName: 'web', instances: [{}] });
    aws.failNext('DescribeInstances', { code: 'RequestLimitExceeded', message: 'Request limit exceeded.', status: 503 });
    const error = await rejection(provider.describe());
    expect(error.message).toContain('DescribeInstances');
    expect(error.details).toMatchObject({ awsCode: 'RequestLimitExceeded', httpStatusCode: 503, retryAfterMs: 2_000 });
  });

  it('reports other AWS errors with their code and no retryAfterMs', async () => {
    const { aws, provider } = await setup({ groupName: 'web', instances: [{ id: 'i-0000000000000000a' }, {}] });
    aws.failNext('TerminateInstanceInAutoScalingGroup', { code: 'ScalingActivityInProgress', message: 'Scaling activity is in progress' });
    const error = await rejection(provider.setDesired(1, { remove: ['i-0000000000000000a'] }));
    expect(error.message).toContain('ScalingActivityInProgress: Scaling activity is in progress');
    expect(error.details).toMatchObject({ awsCode: 'ScalingActivityInProgress', action: 'TerminateInstanceInAutoScalingGroup' });
    expect(error.details?.retryAfterMs).toBeUndefined();
  });

  it('fails clearly for a group that does not exist', async () => {
    const { aws, provider } = await setup({ groupName: 'web' }, { groupName: 'nope' });
    for (const attempt of [provider.describe(), provider.setDesired(2)]) {
      const error = await rejection(attempt);
      expect(error.code).toBe('PRESCALE_ERR_PROVIDER');
      expect(error.message).toMatch(/Auto Scaling group 'nope' not found in us-east-1/);
    }
    expect(mutations(aws)).toEqual([]);
  });

  it('reports an unreachable endpoint as PRESCALE_ERR_PROVIDER', async () => {
    const { provider } = await setup({ groupName: 'web' }, { endpoint: `http://127.0.0.1:${await deadPort()}` });
    const error = await rejection(provider.describe());
    expect(error.details).toMatchObject({ awsCode: 'ECONNREFUSED', action: 'DescribeAutoScalingGroups' });
  });

  it('rejects a bad desired count and calls after close() without touching the group', async () => {
    const { aws, provider } = await setup({ groupName: 'web', instances: [{}] });
    expect((await rejection(provider.setDesired(-1))).code).toBe('PRESCALE_ERR_PROVIDER');
    expect((await rejection(provider.setDesired(1.5))).code).toBe('PRESCALE_ERR_PROVIDER');
    await provider.close();
    await provider.close();
    expect((await rejection(provider.describe())).message).toMatch(/closed/);
    expect(aws.requests).toEqual([]);
    expect(aws.group().desired).toBe(1);
  });

  it('rejects unusable options as PRESCALE_ERR_CONFIG', () => {
    const base = { groupName: 'web', region: 'us-east-1', port: 8080 };
    for (const bad of [{ groupName: ' ' }, { region: '' }, { port: 0 }, { port: 70_000 }]) {
      expect(() => new AwsAutoScalingProvider({ ...base, ...bad })).toThrow(expect.objectContaining({ code: 'PRESCALE_ERR_CONFIG' }));
    }
  });
});
