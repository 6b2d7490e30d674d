module lastgasp.test/cgocrash

go 1.22
