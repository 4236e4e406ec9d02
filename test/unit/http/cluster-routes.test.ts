import request from 'supertest';
import { eventually } from '../../support/eventually';
import { expectProblem, startQuietApp, type TestApp } from '../../support/http/http-app';

/** The coordinator's REST surface in the embedded mode: a one-voter cluster of this node, no network. */
let test: TestApp;
const server = () => test.app.getHttpServer();

beforeAll(async () => {
  test = await startQuietApp();
});

afterAll(async () => {
  await test?.close();
});

describe('GET /v1/cluster and the metadata routes (embedded)', () => {
  it('the node leads a cluster of one, with its term, commit and applied index', async () => {
    // Quiet once the leader has taken the cluster's jobs for its term (its first proposal).
    let body: Record<string, unknown> & { members?: unknown } = {};
    await eventually('the leader has applied what it committed', async () => {
      body = (await request(server()).get('/v1/cluster').expect(200)).body;
      return body.appliedIndex === body.commitIndex && body.commitIndex === 2;
    });
    expect(body).toMatchObject({
      mode: 'embedded',
      role: 'leader',
      leader: body.id,
      quorum: { voters: 1, reachable: 1, healthy: true },
      partitioned: false,
      unreachable: [],
      checkpoints: { lastId: 0, lastCommittedId: 0, pending: [], consecutiveFailures: 0 },
    });
    expect(body.term).toBeGreaterThan(0);
    expect(body.members).toEqual([expect.objectContaining({ id: body.id, voter: true, reachable: true })]);
  });

  it('sets, reads (linearizable and local), lists and deletes a metadata key', async () => {
    const set = await request(server())
      .put('/v1/cluster/metadata/owner')
      .send({ value: 'team-a' })
      .expect(200);
    expect(set.body).toMatchObject({ key: 'owner', value: 'team-a' });
    const got = await request(server()).get('/v1/cluster/metadata/owner').expect(200);
    expect(got.body).toEqual({ key: 'owner', value: 'team-a', index: set.body.index });
    await request(server()).get('/v1/cluster/metadata/owner?consistency=local').expect(200);
    expect((await request(server()).get('/v1/cluster/metadata').expect(200)).body.keys).toContain('owner');
    const deleted = await request(server()).delete('/v1/cluster/metadata/owner').expect(200);
    expect(deleted.body).toMatchObject({ key: 'owner', deleted: true });
    expectProblem(await request(server()).get('/v1/cluster/metadata/owner'), 404, 'NOT_FOUND');
  });

  it('refuses bad input and changes nothing', async () => {
    const before = (await request(server()).get('/v1/cluster').expect(200)).body.lastIndex;
    expectProblem(
      await request(server()).put('/v1/cluster/metadata/k').send({ value: 1 }),
      400,
      'INVALID_ARGUMENT',
    );
    expectProblem(
      await request(server()).put('/v1/cluster/metadata/k').send({ value: 'v', extra: 1 }),
      400,
      'INVALID_ARGUMENT',
    );
    expectProblem(
      await request(server()).get('/v1/cluster/metadata?consistency=eventual'),
      400,
      'INVALID_ARGUMENT',
    );
    expectProblem(
      await request(server()).post('/v1/cluster/members').send({ id: 'n2', address: 'not an address' }),
      400,
      'INVALID_ARGUMENT',
    );
    expectProblem(await request(server()).delete('/v1/cluster/members/nobody'), 400, 'INVALID_ARGUMENT');
    expectProblem(
      await request(server()).post('/v1/cluster/members/nobody/promote'),
      400,
      'INVALID_ARGUMENT',
    );
    expectProblem(
      await request(server()).post('/v1/cluster/leader').send({ to: 'nobody' }),
      400,
      'INVALID_ARGUMENT',
    );
    expect((await request(server()).get('/v1/cluster').expect(200)).body.lastIndex).toBe(before);
  });
});

describe('member ids and addresses at the edge', () => {
  it('refuses an id over 255 bytes of UTF-8 and a port out of range', async () => {
    const long = 'é'.repeat(128); // 128 characters, 256 bytes
    const tooLong = expectProblem(
      await request(server()).post('/v1/cluster/members').send({ id: long, address: '127.0.0.1:7400' }),
      400,
      'INVALID_ARGUMENT',
    );
    expect(tooLong.detail).toMatch(/id: at most 255 bytes of UTF-8/);
    for (const address of ['127.0.0.1:0', '127.0.0.1:99999']) {
      const refused = expectProblem(
        await request(server()).post('/v1/cluster/members').send({ id: 'n2', address }),
        400,
        'INVALID_ARGUMENT',
      );
      expect(refused.detail).toMatch(/address: expected a port from 1 to 65535/);
    }
    // Valid input reaches the node, which has no transport in the embedded mode and says so.
    const embedded = expectProblem(
      await request(server()).post('/v1/cluster/members').send({ id: 'n2', address: '127.0.0.1:7400' }),
      400,
      'INVALID_ARGUMENT',
    );
    expect(embedded.detail).toMatch(/without a Raft transport/);
  });
});
