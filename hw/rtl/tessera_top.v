// The accelerator: fetch, load, compute and store connected by command queues and the four
// dependency-token queues, the input/weight/output buffers, the AXI4 master (read arbiter of
// fetch, load and compute; the store unit writes) and the AXI4-Lite control slave.
//
// Ports: clk_i, rst_ni (active-low, synchronous), s_axil_* (AXI4-Lite slave, 32-bit data,
// 8-bit address), m_axi_* (AXI4 master, 32-bit address, BUS_BITS data, 1-bit IDs), irq_o
// (high while done or error). The AXI names have no _i/_o suffix on purpose: cocotbext-axi's
// from_prefix looks them up by their plain AXI names. events_o: this cycle's unit activity
// (the bits the busy/stall counters count: {alu, gemm, fetch stall, fetch busy, store stall,
// store busy, compute stall, compute busy, load stall, load busy}) for simulators' timelines;
// a board design leaves it unconnected.
`default_nettype none

module tessera_top (
    input  wire                 clk_i,
    input  wire                 rst_ni,
    // AXI4-Lite slave
    input  wire [7:0]           s_axil_awaddr,
    input  wire [2:0]           s_axil_awprot,
    input  wire                 s_axil_awvalid,
    output wire                 s_axil_awready,
    input  wire [31:0]          s_axil_wdata,
    input  wire [3:0]           s_axil_wstrb,
    input  wire                 s_axil_wvalid,
    output wire                 s_axil_wready,
    output wire [1:0]           s_axil_bresp,
    output wire                 s_axil_bvalid,
    input  wire                 s_axil_bready,
    input  wire [7:0]           s_axil_araddr,
    input  wire [2:0]           s_axil_arprot,
    input  wire                 s_axil_arvalid,
    output wire                 s_axil_arready,
    output wire [31:0]          s_axil_rdata,
    output wire [1:0]           s_axil_rresp,
    output wire                 s_axil_rvalid,
    input  wire                 s_axil_rready,
    // AXI4 master
    output wire [0:0]           m_axi_awid,
    output wire [31:0]          m_axi_awaddr,
    output wire [7:0]           m_axi_awlen,
    output wire [2:0]           m_axi_awsize,
    output wire [1:0]           m_axi_awburst,
    output wire                 m_axi_awlock,
    output wire [3:0]           m_axi_awcache,
    output wire [2:0]           m_axi_awprot,
    output wire                 m_axi_awvalid,
    input  wire                 m_axi_awready,
    output wire [BUS_BITS-1:0]  m_axi_wdata,
    output wire [BUS_BYTES-1:0] m_axi_wstrb,
    output wire                 m_axi_wlast,
    output wire                 m_axi_wvalid,
    input  wire                 m_axi_wready,
    input  wire [0:0]           m_axi_bid,
    input  wire [1:0]           m_axi_bresp,
    input  wire                 m_axi_bvalid,
    output wire                 m_axi_bready,
    output wire [0:0]           m_axi_arid,
    output wire [31:0]          m_axi_araddr,
    output wire [7:0]           m_axi_arlen,
    output wire [2:0]           m_axi_arsize,
    output wire [1:0]           m_axi_arburst,
    output wire                 m_axi_arlock,
    output wire [3:0]           m_axi_arcache,
    output wire [2:0]           m_axi_arprot,
    output wire                 m_axi_arvalid,
    input  wire                 m_axi_arready,
    input  wire [0:0]           m_axi_rid,
    input  wire [BUS_BITS-1:0]  m_axi_rdata,
    input  wire [1:0]           m_axi_rresp,
    input  wire                 m_axi_rlast,
    input  wire                 m_axi_rvalid,
    output wire                 m_axi_rready,
    output wire                 irq_o,
    output wire [9:0]           events_o
);
`include "tessera_params.vh"

  localparam integer CMD_LOG_DEPTH = 4;

  // ---------------------------------------------------------------- control
  wire        start, soft_reset, clear, fetch_start, halt;
  wire [31:0] insn_addr, insn_count, watchdog;
  wire [2:0]  ctrl;
  wire [31:0] status, cycles, error_pc;
  wire [351:0] counters;

  tessera_axil_slave u_axil (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .s_axil_awaddr(s_axil_awaddr), .s_axil_awprot(s_axil_awprot),
    .s_axil_awvalid(s_axil_awvalid), .s_axil_awready(s_axil_awready),
    .s_axil_wdata(s_axil_wdata), .s_axil_wstrb(s_axil_wstrb), .s_axil_wvalid(s_axil_wvalid),
    .s_axil_wready(s_axil_wready), .s_axil_bresp(s_axil_bresp), .s_axil_bvalid(s_axil_bvalid),
    .s_axil_bready(s_axil_bready), .s_axil_araddr(s_axil_araddr),
    .s_axil_arprot(s_axil_arprot), .s_axil_arvalid(s_axil_arvalid),
    .s_axil_arready(s_axil_arready), .s_axil_rdata(s_axil_rdata),
    .s_axil_rresp(s_axil_rresp), .s_axil_rvalid(s_axil_rvalid), .s_axil_rready(s_axil_rready),
    .start_o(start), .soft_reset_o(soft_reset), .insn_addr_o(insn_addr),
    .insn_count_o(insn_count), .watchdog_o(watchdog), .ctrl_i(ctrl), .status_i(status),
    .cycles_i(cycles), .error_pc_i(error_pc), .counters_i(counters)
  );

  // ---------------------------------------------------------------- queues
  wire [159:0] fetch_cmd, ld_cmd, cp_cmd, st_cmd;
  wire ld_push, cp_push, st_push, ld_full, cp_full, st_full;
  wire ld_empty, cp_empty, st_empty, ld_pop, cp_pop, st_pop;

  wire [CMD_LOG_DEPTH:0] unused_ld_count, unused_cp_count, unused_st_count;
  wire [LOG_TOKEN_DEPTH:0] unused_l2c_count, unused_c2l_count, unused_c2s_count;
  wire [LOG_TOKEN_DEPTH:0] unused_s2c_count;

  tessera_fifo #(.WIDTH(160), .LOG_DEPTH(CMD_LOG_DEPTH)) u_ld_cmd (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .push_i(ld_push), .wdata_i(fetch_cmd),
    .full_o(ld_full), .pop_i(ld_pop), .rdata_o(ld_cmd), .empty_o(ld_empty), .count_o(unused_ld_count));
  tessera_fifo #(.WIDTH(160), .LOG_DEPTH(CMD_LOG_DEPTH)) u_cp_cmd (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .push_i(cp_push), .wdata_i(fetch_cmd),
    .full_o(cp_full), .pop_i(cp_pop), .rdata_o(cp_cmd), .empty_o(cp_empty), .count_o(unused_cp_count));
  tessera_fifo #(.WIDTH(160), .LOG_DEPTH(CMD_LOG_DEPTH)) u_st_cmd (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .push_i(st_push), .wdata_i(fetch_cmd),
    .full_o(st_full), .pop_i(st_pop), .rdata_o(st_cmd), .empty_o(st_empty), .count_o(unused_st_count));

  // tokens: l2c, c2l, c2s, s2c
  wire l2c_push, l2c_pop, l2c_full, l2c_empty;
  wire c2l_push, c2l_pop, c2l_full, c2l_empty;
  wire c2s_push, c2s_pop, c2s_full, c2s_empty;
  wire s2c_push, s2c_pop, s2c_full, s2c_empty;

  tessera_token_queue #(.LOG_DEPTH(LOG_TOKEN_DEPTH)) u_l2c (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .push_i(l2c_push), .pop_i(l2c_pop),
    .full_o(l2c_full), .empty_o(l2c_empty), .count_o(unused_l2c_count));
  tessera_token_queue #(.LOG_DEPTH(LOG_TOKEN_DEPTH)) u_c2l (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .push_i(c2l_push), .pop_i(c2l_pop),
    .full_o(c2l_full), .empty_o(c2l_empty), .count_o(unused_c2l_count));
  tessera_token_queue #(.LOG_DEPTH(LOG_TOKEN_DEPTH)) u_c2s (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .push_i(c2s_push), .pop_i(c2s_pop),
    .full_o(c2s_full), .empty_o(c2s_empty), .count_o(unused_c2s_count));
  tessera_token_queue #(.LOG_DEPTH(LOG_TOKEN_DEPTH)) u_s2c (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .push_i(s2c_push), .pop_i(s2c_pop),
    .full_o(s2c_full), .empty_o(s2c_empty), .count_o(unused_s2c_count));

  // ---------------------------------------------------------------- buffers
  wire inp_we, inp_re, wgt_we, wgt_re, out_we, out_re;
  wire [LOG_INP_DEPTH-1:0] inp_waddr, inp_raddr;
  wire [LOG_WGT_DEPTH-1:0] wgt_waddr, wgt_raddr;
  wire [LOG_OUT_DEPTH-1:0] out_waddr, out_raddr;
  wire [INP_BITS-1:0] inp_wdata, inp_rdata;
  wire [WGT_BITS-1:0] wgt_wdata, wgt_rdata;
  wire [OUT_BITS-1:0] out_wdata, out_rdata;

  tessera_ram #(.WIDTH(INP_BITS), .LOG_DEPTH(LOG_INP_DEPTH)) u_inp (
    .clk_i(clk_i), .we_i(inp_we), .waddr_i(inp_waddr), .wdata_i(inp_wdata),
    .re_i(inp_re), .raddr_i(inp_raddr), .rdata_o(inp_rdata));
  tessera_ram #(.WIDTH(WGT_BITS), .LOG_DEPTH(LOG_WGT_DEPTH)) u_wgt (
    .clk_i(clk_i), .we_i(wgt_we), .waddr_i(wgt_waddr), .wdata_i(wgt_wdata),
    .re_i(wgt_re), .raddr_i(wgt_raddr), .rdata_o(wgt_rdata));
  tessera_ram #(.WIDTH(OUT_BITS), .LOG_DEPTH(LOG_OUT_DEPTH)) u_out (
    .clk_i(clk_i), .we_i(out_we), .waddr_i(out_waddr), .wdata_i(out_wdata),
    .re_i(out_re), .raddr_i(out_raddr), .rdata_o(out_rdata));

  // ---------------------------------------------------------------- read arbiter
  wire [2:0]  ar_valid, ar_ready, r_valid, r_ready;
  wire [95:0] ar_addr;
  wire [23:0] ar_len;
  wire [2:0]  quiet_rd;

  tessera_axi_rd_arbiter u_arb (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .ar_valid_i(ar_valid), .ar_addr_i(ar_addr), .ar_len_i(ar_len), .ar_ready_o(ar_ready),
    .r_valid_o(r_valid), .r_ready_i(r_ready),
    .m_axi_arid(m_axi_arid), .m_axi_araddr(m_axi_araddr), .m_axi_arlen(m_axi_arlen),
    .m_axi_arsize(m_axi_arsize), .m_axi_arburst(m_axi_arburst), .m_axi_arlock(m_axi_arlock),
    .m_axi_arcache(m_axi_arcache), .m_axi_arprot(m_axi_arprot),
    .m_axi_arvalid(m_axi_arvalid), .m_axi_arready(m_axi_arready), .m_axi_rid(m_axi_rid),
    .m_axi_rlast(m_axi_rlast), .m_axi_rvalid(m_axi_rvalid), .m_axi_rready(m_axi_rready)
  );

  // ---------------------------------------------------------------- units
  wire fetch_done, fetch_busy, fetch_stall, fetch_err;
  wire [2:0] fetch_code, ld_code, cp_code, st_code;
  wire [31:0] fetch_pc, fetch_err_pc;
  wire ld_busy, ld_stall, ld_retire, ld_err;
  wire cp_busy, cp_stall, cp_retire, cp_err, cp_gemm, cp_alu;
  wire st_busy, st_stall, st_retire, st_err, st_quiet;

  tessera_fetch u_fetch (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .halt_i(halt), .start_i(fetch_start),
    .insn_addr_i(insn_addr), .insn_count_i(insn_count),
    .ar_valid_o(ar_valid[0]), .ar_addr_o(ar_addr[31:0]), .ar_len_o(ar_len[7:0]),
    .ar_ready_i(ar_ready[0]), .r_valid_i(r_valid[0]), .r_data_i(m_axi_rdata),
    .r_last_i(m_axi_rlast), .r_resp_i(m_axi_rresp), .r_ready_o(r_ready[0]),
    .quiet_o(quiet_rd[0]), .cmd_o(fetch_cmd),
    .ld_push_o(ld_push), .ld_full_i(ld_full), .cp_push_o(cp_push), .cp_full_i(cp_full),
    .st_push_o(st_push), .st_full_i(st_full), .done_o(fetch_done), .pc_o(fetch_pc),
    .busy_o(fetch_busy), .stall_o(fetch_stall), .err_o(fetch_err), .err_code_o(fetch_code),
    .err_pc_o(fetch_err_pc)
  );

  tessera_load u_load (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .halt_i(halt),
    .cmd_i(ld_cmd), .cmd_empty_i(ld_empty), .cmd_pop_o(ld_pop),
    .c2l_empty_i(c2l_empty), .c2l_pop_o(c2l_pop), .l2c_full_i(l2c_full),
    .l2c_push_o(l2c_push),
    .ar_valid_o(ar_valid[1]), .ar_addr_o(ar_addr[63:32]), .ar_len_o(ar_len[15:8]),
    .ar_ready_i(ar_ready[1]), .r_valid_i(r_valid[1]), .r_data_i(m_axi_rdata),
    .r_last_i(m_axi_rlast), .r_resp_i(m_axi_rresp), .r_ready_o(r_ready[1]),
    .quiet_o(quiet_rd[1]),
    .inp_we_o(inp_we), .inp_waddr_o(inp_waddr), .inp_wdata_o(inp_wdata),
    .wgt_we_o(wgt_we), .wgt_waddr_o(wgt_waddr), .wgt_wdata_o(wgt_wdata),
    .busy_o(ld_busy), .stall_o(ld_stall), .retire_o(ld_retire), .err_o(ld_err),
    .err_code_o(ld_code)
  );

  tessera_compute u_compute (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .halt_i(halt),
    .cmd_i(cp_cmd), .cmd_empty_i(cp_empty), .cmd_pop_o(cp_pop),
    .l2c_empty_i(l2c_empty), .l2c_pop_o(l2c_pop), .s2c_empty_i(s2c_empty),
    .s2c_pop_o(s2c_pop), .c2l_full_i(c2l_full), .c2l_push_o(c2l_push),
    .c2s_full_i(c2s_full), .c2s_push_o(c2s_push),
    .ar_valid_o(ar_valid[2]), .ar_addr_o(ar_addr[95:64]), .ar_len_o(ar_len[23:16]),
    .ar_ready_i(ar_ready[2]), .r_valid_i(r_valid[2]), .r_data_i(m_axi_rdata),
    .r_last_i(m_axi_rlast), .r_resp_i(m_axi_rresp), .r_ready_o(r_ready[2]),
    .quiet_o(quiet_rd[2]),
    .inp_re_o(inp_re), .inp_raddr_o(inp_raddr), .inp_rdata_i(inp_rdata),
    .wgt_re_o(wgt_re), .wgt_raddr_o(wgt_raddr), .wgt_rdata_i(wgt_rdata),
    .out_we_o(out_we), .out_waddr_o(out_waddr), .out_wdata_o(out_wdata),
    .busy_o(cp_busy), .stall_o(cp_stall), .retire_o(cp_retire), .gemm_o(cp_gemm),
    .alu_o(cp_alu), .err_o(cp_err), .err_code_o(cp_code)
  );

  tessera_store u_store (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear), .halt_i(halt),
    .cmd_i(st_cmd), .cmd_empty_i(st_empty), .cmd_pop_o(st_pop),
    .c2s_empty_i(c2s_empty), .c2s_pop_o(c2s_pop), .s2c_full_i(s2c_full),
    .s2c_push_o(s2c_push),
    .out_re_o(out_re), .out_raddr_o(out_raddr), .out_rdata_i(out_rdata),
    .m_axi_awid(m_axi_awid), .m_axi_awaddr(m_axi_awaddr), .m_axi_awlen(m_axi_awlen),
    .m_axi_awsize(m_axi_awsize), .m_axi_awburst(m_axi_awburst), .m_axi_awlock(m_axi_awlock),
    .m_axi_awcache(m_axi_awcache), .m_axi_awprot(m_axi_awprot),
    .m_axi_awvalid(m_axi_awvalid), .m_axi_awready(m_axi_awready),
    .m_axi_wdata(m_axi_wdata), .m_axi_wstrb(m_axi_wstrb), .m_axi_wlast(m_axi_wlast),
    .m_axi_wvalid(m_axi_wvalid), .m_axi_wready(m_axi_wready), .m_axi_bid(m_axi_bid),
    .m_axi_bresp(m_axi_bresp), .m_axi_bvalid(m_axi_bvalid), .m_axi_bready(m_axi_bready),
    .quiet_o(st_quiet), .busy_o(st_busy), .stall_o(st_stall), .retire_o(st_retire),
    .err_o(st_err), .err_code_o(st_code)
  );

  // ---------------------------------------------------------------- run control
  wire [31:0] ld_pc = ld_cmd[159:128];
  wire [31:0] cp_pc = cp_cmd[159:128];
  wire [31:0] st_pc = st_cmd[159:128];
  reg  [31:0] oldest_pc;
  always @* begin
    oldest_pc = fetch_done ? 32'hffffffff : fetch_pc;
    if (!ld_empty && ld_pc < oldest_pc) oldest_pc = ld_pc;
    if (!cp_empty && cp_pc < oldest_pc) oldest_pc = cp_pc;
    if (!st_empty && st_pc < oldest_pc) oldest_pc = st_pc;
  end

  wire drained = fetch_done && ld_empty && cp_empty && st_empty;
  wire quiet = &quiet_rd && st_quiet;
  wire progress = (m_axi_arvalid && m_axi_arready) || (m_axi_rvalid && m_axi_rready)
      || (m_axi_awvalid && m_axi_awready) || (m_axi_wvalid && m_axi_wready)
      || (m_axi_bvalid && m_axi_bready) || ld_push || cp_push || st_push
      || ld_retire || cp_retire || st_retire || inp_we || wgt_we || out_we
      || l2c_pop || c2l_pop || c2s_pop || s2c_pop;
  wire [1:0] retired = {1'b0, ld_retire} + {1'b0, cp_retire} + {1'b0, st_retire};
  wire [9:0] events = {cp_alu, cp_gemm, fetch_stall, fetch_busy, st_stall, st_busy,
                       cp_stall, cp_busy, ld_stall, ld_busy};
  assign events_o = events;

  tessera_control u_control (
    .clk_i(clk_i), .rst_ni(rst_ni), .start_i(start), .soft_reset_i(soft_reset),
    .watchdog_i(watchdog), .drained_i(drained), .quiet_i(quiet), .progress_i(progress),
    .err_i({st_err, cp_err, ld_err, fetch_err}),
    .err_code_i({st_code, cp_code, ld_code, fetch_code}),
    .err_pc_i({st_pc, cp_pc, ld_pc, fetch_err_pc}), .oldest_pc_i(oldest_pc),
    .events_i(events), .retired_i(retired),
    .clear_o(clear), .fetch_start_o(fetch_start), .halt_o(halt),
    .ctrl_o(ctrl), .status_o(status), .cycles_o(cycles), .error_pc_o(error_pc),
    .counters_o(counters), .irq_o(irq_o)
  );
endmodule

`default_nettype wire
