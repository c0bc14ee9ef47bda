module github.com/phalacloud/go-sdk

go 1.26
