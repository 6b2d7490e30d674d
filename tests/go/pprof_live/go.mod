module lastgasp.test/pprof_live

go 1.22
