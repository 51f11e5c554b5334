// Store unit: STORE of OUT, the only writer on the AXI4 master. Pops c2s before (pop_prev),
// streams y_size x x_size output entries read densely from sram_base to DRAM rows at
// dram_base + r*x_stride (entries), pushes s2c after (push_prev). Bursts are INCR, at most
// MAX_BURST beats, never across 4 KiB. Illegal: a memory type other than OUT, padding, or
// pop_next/push_next (the store unit has no next stage). Once a burst's address is issued its
// data beats always follow, even in the error state, so the write channel never hangs.
`default_nettype none

module tessera_store (
    input  wire                     clk_i,
    input  wire                     rst_ni,
    input  wire                     clear_i,
    input  wire                     halt_i,
    input  wire [159:0]             cmd_i,
    input  wire                     cmd_empty_i,
    output wire                     cmd_pop_o,
    input  wire                     c2s_empty_i,
    output wire                     c2s_pop_o,
    input  wire                     s2c_full_i,
    output wire                     s2c_push_o,
    // output buffer read port
    output wire                     out_re_o,
    output wire [LOG_OUT_DEPTH-1:0] out_raddr_o,
    input  wire [OUT_BITS-1:0]      out_rdata_i,
    // AXI4 master write channels
    output wire [0:0]               m_axi_awid,
    output wire [31:0]              m_axi_awaddr,
    output wire [7:0]               m_axi_awlen,
    output wire [2:0]               m_axi_awsize,
    output wire [1:0]               m_axi_awburst,
    output wire                     m_axi_awlock,
    output wire [3:0]               m_axi_awcache,
    output wire [2:0]               m_axi_awprot,
    output wire                     m_axi_awvalid,
    input  wire                     m_axi_awready,
    output wire [BUS_BITS-1:0]      m_axi_wdata,
    output wire [BUS_BYTES-1:0]     m_axi_wstrb,
    output wire                     m_axi_wlast,
    output wire                     m_axi_wvalid,
    input  wire                     m_axi_wready,
    input  wire [0:0]               m_axi_bid,
    input  wire [1:0]               m_axi_bresp,
    input  wire                     m_axi_bvalid,
    output wire                     m_axi_bready,
    // status
    output wire                     quiet_o,
    output wire                     busy_o,
    output wire                     stall_o,
    output wire                     retire_o,
    output wire                     err_o,
    output wire [2:0]               err_code_o
);
`include "tessera_params.vh"

  localparam [1:0] S_IDLE = 2'd0, S_POP = 2'd1, S_RUN = 2'd2, S_PUSH = 2'd3;
  localparam integer LOG_BPE = LOG_OUT_BYTES - LOG_BUS_BYTES;   // beats per entry, log2
  localparam [7:0] BEAT_LAST = (1 << LOG_BPE) - 1;

  reg [1:0]  state_q, state_d;
  reg        stuck_q, stuck_d;
  // address side
  reg        aw_act_q, aw_act_d;
  reg [15:0] row_q, row_d;
  reg [31:0] row_ent_q, row_ent_d;
  reg [31:0] addr_q, addr_d;        // next burst's byte address
  reg [31:0] rleft_q, rleft_d;      // beats of the row not yet in a burst
  reg        awvalid_q, awvalid_d;
  reg [31:0] awaddr_q, awaddr_d;
  reg [7:0]  awlen_q, awlen_d;
  reg [3:0]  outst_q, outst_d;
  // data side
  reg [31:0] ent_left_q, ent_left_d;  // entries not yet fully sent
  reg [LOG_OUT_DEPTH-1:0] ent_addr_q, ent_addr_d;
  reg [7:0]  beat_q, beat_d;
  reg [7:0]  wcnt_q, wcnt_d;

  wire [127:0] insn = cmd_i[127:0];
  wire pop_prev = insn[F_POP_PREV_LSB];
  wire pop_next = insn[F_POP_NEXT_LSB];
  wire push_prev = insn[F_PUSH_PREV_LSB];
  wire push_next = insn[F_PUSH_NEXT_LSB];
  wire [2:0]  mem_type = insn[F_MEM_MEM_TYPE_LSB +: F_MEM_MEM_TYPE_W];
  wire [SRAM_IDX_W-1:0] sram_base = insn[F_MEM_SRAM_BASE_LSB +: F_MEM_SRAM_BASE_W];
  wire [31:0] dram_base = insn[F_MEM_DRAM_BASE_LSB +: F_MEM_DRAM_BASE_W];
  wire [15:0] ys = insn[F_MEM_Y_SIZE_LSB +: F_MEM_Y_SIZE_W];
  wire [15:0] xs = insn[F_MEM_X_SIZE_LSB +: F_MEM_X_SIZE_W];
  wire [15:0] stride = insn[F_MEM_X_STRIDE_LSB +: F_MEM_X_STRIDE_W];
  wire [15:0] pads = {insn[F_MEM_Y_PAD_0_LSB +: 4], insn[F_MEM_Y_PAD_1_LSB +: 4],
                      insn[F_MEM_X_PAD_0_LSB +: 4], insn[F_MEM_X_PAD_1_LSB +: 4]};
  wire go = !halt_i && !stuck_q;

  wire illegal = state_q == S_IDLE && go && !cmd_empty_i
      && (pop_next || push_next || mem_type != MEM_TYPE_OUT[2:0] || pads != 16'd0);
  wire [31:0] n_ent = ys * xs;
  wire [32:0] win_end = {1'b0, n_ent} + {{(33-SRAM_IDX_W){1'b0}}, sram_base};
  wire oor = win_end > {1'b0, OUT_DEPTH[31:0]};
  wire can_pop = !pop_prev || !c2s_empty_i;
  wire can_push = !push_prev || !s2c_full_i;
  wire start = state_q == S_POP && go && can_pop;
  wire finish = state_q == S_PUSH && go && can_push;

  // burst length of the next address
  wire [12:0] to_4k = (13'h1000 - {1'b0, addr_q[11:0]}) >> LOG_BUS_BYTES;
  reg  [12:0] blen;
  always @* begin
    blen = to_4k;
    if (blen > MAX_BURST[12:0]) blen = MAX_BURST[12:0];
    if ({19'd0, blen} > rleft_q) blen = rleft_q[12:0];
  end

  wire len_full, len_empty;
  wire [3:0] unused_len_count;
  wire [7:0] len_head;
  wire aw_hs = awvalid_q && m_axi_awready;
  wire issue = aw_act_q && !halt_i && !awvalid_q && rleft_q != 32'd0 && outst_q < 4'd8;
  wire w_valid = !len_empty && ent_left_q != 32'd0;
  wire w_hs = w_valid && m_axi_wready;
  wire w_last = wcnt_q == len_head;
  wire ent_last_beat = beat_q == BEAT_LAST;
  wire b_hs = m_axi_bvalid;
  wire quiet = outst_q == 4'd0 && !awvalid_q && len_empty;
  wire first_read = start && !oor && n_ent != 32'd0;
  wire next_read = w_hs && ent_last_beat && ent_left_q != 32'd1;

  always @* begin
    state_d = state_q;
    stuck_d = stuck_q;
    aw_act_d = aw_act_q;
    row_d = row_q;
    row_ent_d = row_ent_q;
    addr_d = addr_q;
    rleft_d = rleft_q;
    awvalid_d = awvalid_q;
    awaddr_d = awaddr_q;
    awlen_d = awlen_q;
    outst_d = outst_q;
    ent_left_d = ent_left_q;
    ent_addr_d = ent_addr_q;
    beat_d = beat_q;
    wcnt_d = wcnt_q;
    case (state_q)
      S_IDLE: if (go && !cmd_empty_i) begin
        if (illegal) stuck_d = 1'b1;
        else state_d = S_POP;
      end
      S_POP: if (start) begin
        if (oor) begin
          stuck_d = 1'b1;
        end else begin
          state_d = S_RUN;
          aw_act_d = n_ent != 32'd0;
          row_d = 16'd0;
          row_ent_d = dram_base;
          addr_d = dram_base << LOG_OUT_BYTES;
          rleft_d = {16'd0, xs} << LOG_BPE;
          ent_left_d = n_ent;
          ent_addr_d = sram_base[LOG_OUT_DEPTH-1:0];
          beat_d = 8'd0;
          wcnt_d = 8'd0;
        end
      end
      S_RUN: if (!aw_act_q && ent_left_q == 32'd0 && quiet) state_d = S_PUSH;
      default: if (finish) state_d = S_IDLE;
    endcase
    // address side: one row after another, each split into bursts
    if (issue) begin
      awvalid_d = 1'b1;
      awaddr_d = addr_q;
      awlen_d = blen[7:0] - 8'd1;
      addr_d = addr_q + ({19'd0, blen} << LOG_BUS_BYTES);
      rleft_d = rleft_q - {19'd0, blen};
      if (rleft_q == {19'd0, blen}) begin
        row_d = row_q + 16'd1;
        row_ent_d = row_ent_q + {16'd0, stride};
        addr_d = (row_ent_q + {16'd0, stride}) << LOG_OUT_BYTES;
        rleft_d = {16'd0, xs} << LOG_BPE;
        if (row_q == ys - 16'd1) aw_act_d = 1'b0;
      end
    end
    if (aw_hs) awvalid_d = 1'b0;
    if (aw_hs && !b_hs) outst_d = outst_q + 4'd1;
    if (!aw_hs && b_hs) outst_d = outst_q - 4'd1;
    // data side: entries in order, bursts as their addresses went out
    if (w_hs) begin
      wcnt_d = w_last ? 8'd0 : wcnt_q + 8'd1;
      beat_d = ent_last_beat ? 8'd0 : beat_q + 8'd1;
      if (ent_last_beat) begin
        ent_left_d = ent_left_q - 32'd1;
        ent_addr_d = ent_addr_q + {{(LOG_OUT_DEPTH-1){1'b0}}, 1'b1};
      end
    end
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      state_q <= S_IDLE;
      stuck_q <= 1'b0;
      aw_act_q <= 1'b0;
      row_q <= 16'd0;
      row_ent_q <= 32'd0;
      addr_q <= 32'd0;
      rleft_q <= 32'd0;
      awvalid_q <= 1'b0;
      awaddr_q <= 32'd0;
      awlen_q <= 8'd0;
      outst_q <= 4'd0;
      ent_left_q <= 32'd0;
      ent_addr_q <= {LOG_OUT_DEPTH{1'b0}};
      beat_q <= 8'd0;
      wcnt_q <= 8'd0;
    end else begin
      state_q <= state_d;
      stuck_q <= stuck_d;
      aw_act_q <= aw_act_d;
      row_q <= row_d;
      row_ent_q <= row_ent_d;
      addr_q <= addr_d;
      rleft_q <= rleft_d;
      awvalid_q <= awvalid_d;
      awaddr_q <= awaddr_d;
      awlen_q <= awlen_d;
      outst_q <= outst_d;
      ent_left_q <= ent_left_d;
      ent_addr_q <= ent_addr_d;
      beat_q <= beat_d;
      wcnt_q <= wcnt_d;
    end
  end

  tessera_fifo #(.WIDTH(8), .LOG_DEPTH(3)) u_len (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i),
    .push_i(aw_hs), .wdata_i(awlen_q), .full_o(len_full),
    .pop_i(w_hs && w_last), .rdata_o(len_head), .empty_o(len_empty), .count_o(unused_len_count)
  );

  localparam integer BPE = 1 << LOG_BPE;
  reg [BUS_BITS-1:0] wdata;
  integer k;
  always @* begin
    wdata = out_rdata_i[BUS_BITS-1:0];
    for (k = 0; k < BPE; k = k + 1)
      if (beat_q == k[7:0]) wdata = out_rdata_i[k*BUS_BITS +: BUS_BITS];
  end
  wire unused_ok = &{1'b0, cmd_i[159:128], len_full, m_axi_bid, m_axi_bresp[0], 1'b0};

  assign cmd_pop_o = finish;
  assign c2s_pop_o = start && pop_prev && !oor;
  assign s2c_push_o = finish && push_prev;
  assign out_re_o = first_read || next_read;
  assign out_raddr_o = first_read ? sram_base[LOG_OUT_DEPTH-1:0]
      : ent_addr_q + {{(LOG_OUT_DEPTH-1){1'b0}}, 1'b1};
  assign m_axi_awid = 1'b0;
  assign m_axi_awaddr = awaddr_q;
  assign m_axi_awlen = awlen_q;
  assign m_axi_awsize = LOG_BUS_BYTES[2:0];
  assign m_axi_awburst = 2'b01;
  assign m_axi_awlock = 1'b0;
  assign m_axi_awcache = 4'b0011;
  assign m_axi_awprot = 3'b000;
  assign m_axi_awvalid = awvalid_q;
  assign m_axi_wdata = wdata;
  assign m_axi_wstrb = {BUS_BYTES{1'b1}};
  assign m_axi_wlast = w_last;
  assign m_axi_wvalid = w_valid;
  assign m_axi_bready = 1'b1;
  assign quiet_o = quiet;
  assign busy_o = state_q == S_RUN;
  assign stall_o = (state_q == S_POP && !can_pop) || (state_q == S_PUSH && !can_push);
  assign retire_o = finish;
  assign err_o = illegal || (start && oor) || (b_hs && m_axi_bresp[1]);
  assign err_code_o = (b_hs && m_axi_bresp[1]) ? ERR_BUS_ERROR[2:0]
      : (illegal ? ERR_ILLEGAL_INSN[2:0] : ERR_OUT_OF_RANGE[2:0]);
endmodule

`default_nettype wire
