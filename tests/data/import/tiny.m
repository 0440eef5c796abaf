function mpc = tiny
%TINY  4-bus case for resiliopt's importer tests (counts and capacities known by construction)
mpc.version = '2';
mpc.baseMVA = 100;

%% bus data
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	0	0	0	0	1	1	0	230	1	1.1	0.9;
	2	1	50	10	0	0	1	1	0	230	1	1.1	0.9;
	3	1	30	5	0	0	1	1	0	230	1	1.1	0.9;
	4	4	10	2	0	0	1	1	0	230	1	1.1	0.9;
];

%% generator data
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin
mpc.gen = [
	1	80	0	100	-100	1	100	1	100	0;
	2	0	0	50	-50	1	100	0	40	0;
];

%% branch data
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	2	0.01	0.1	0	80	0	0	0	0	1	-360	360;
	2	3	0.01	0.2	0	0	0	0	0	0	1	-360	360;
	1	3	0.01	0.1	0	60	0	0	0	0	0	-360	360;
	3	4	0.01	0.1	0	50	0	0	0	0	1	-360	360;
];
