package phalatest_test

import (
	"context"
	"testing"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func TestSmoke(t *testing.T) {
	s := phalatest.NewTestServer(t)
	c := s.Client()
	ctx := context.Background()
	info, err := c.GetCVMInfo(ctx, phalatest.CentralCVMName)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v %+v", info, info.KMSInfo)
	r, err := c.UpdateDockerCompose(ctx, phalatest.OnChainCVMName, "services: {}\n", nil)
	t.Logf("%+v %v", r, err)
	err = c.UpdateCVMResources(ctx, phalatest.CentralCVMName, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(4)})
	t.Log(err)
	for _, q := range s.Requests() {
		t.Logf("%s %s %d %s applied=%v", q.Method, q.Path, q.Status, q.Operation, q.Applied)
	}
}
