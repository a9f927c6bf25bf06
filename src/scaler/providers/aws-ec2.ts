/**
 * EC2 facts the aws provider needs about Auto Scaling instances: addresses and launch time.
 *
 * Uses DescribeInstances with an `instance-id` filter rather than InstanceIds: a filter ignores
 * ids EC2 does not know yet (a just-launched instance is eventually consistent in EC2), where
 * InstanceIds fails the whole call with InvalidInstanceID.NotFound. Ids go in chunks of
 * FILTER_VALUES_PER_CALL and every page (nextToken) is read. Cost: ⌈n / 200⌉ calls or more when
 * EC2 pages. Errors propagate from `call` (which maps them to PrescaleError).
 */
import { DescribeInstancesCommand, type DescribeInstancesCommandOutput, type EC2Client } from '@aws-sdk/client-ec2';

export interface Ec2InstanceFacts {
  readonly privateIp: string | undefined;
  readonly publicIp: string | undefined;
  /** EC2 LaunchTime (epoch ms), when EC2 reported one. */
  readonly launchTimeMs: number | undefined;
}

/** Wraps one SDK call (error mapping); `action` names the API action. */
export type AwsCall = <T>(action: string, send: () => Promise<T>) => Promise<T>;

const FILTER_VALUES_PER_CALL = 200;
const PAGE_SIZE = 1000;

/** Facts for each of `ids` EC2 knows about; unknown ids are simply absent from the map. */
export async function describeInstanceFacts(ec2: EC2Client, ids: readonly string[], call: AwsCall): Promise<Map<string, Ec2InstanceFacts>> {
  const facts = new Map<string, Ec2InstanceFacts>();
  for (let start = 0; start < ids.length; start += FILTER_VALUES_PER_CALL) {
    const chunk = ids.slice(start, start + FILTER_VALUES_PER_CALL);
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page: DescribeInstancesCommandOutput = await call('DescribeInstances', () =>
        ec2.send(new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-id', Values: chunk }],
          MaxResults: PAGE_SIZE,
          ...(token === undefined ? {} : { NextToken: token }),
        })),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (instance.InstanceId === undefined) continue;
          facts.set(instance.InstanceId, {
            privateIp: instance.PrivateIpAddress,
            publicIp: instance.PublicIpAddress,
            launchTimeMs: instance.LaunchTime?.getTime(),
          });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return facts;
}
